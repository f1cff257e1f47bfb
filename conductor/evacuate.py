"""What compute agents report of evacuations, applied to the records
(conductor.evacuations): the destination's rebuild done or failed, and the
source's leftovers removed once it is back."""

from oslo_log import log as logging

from common.db import instances
from conductor import evacuations
from conductor import resizes
from network import notify
from network import state as netstate

LOG = logging.getLogger(__name__)



def report(context, uuid, migration_uuid, ok, power_state, message=None):
    """The destination's rebuild: ``ok``, or failed with ``message``. The
    instance dict it ends as, or None if it changed meanwhile."""
    mig = resizes.get(migration_uuid)
    if mig is None:
        LOG.warning('Evacuation report for unknown migration %s of %s', migration_uuid, uuid)
        return None
    if ok:
        inst = evacuations.done(uuid, migration_uuid, power_state)
    else:
        inst = evacuations.failed(uuid, migration_uuid, power_state,
                                  message or 'The evacuation failed.')
    # Hosts whose remote-group rules or VXLAN peers name the server's ports.
    notify.refresh_hosts(context, netstate.hosts_for_instance(uuid) - {
        mig.source_compute, mig.dest_compute})
    LOG.info('Evacuation of %s from %s to %s: %s', uuid, mig.source_compute,
             mig.dest_compute, 'done' if ok else 'failed: %s' % message)
    return instances.to_dict(inst) if inst is not None else None


def leftovers(host):
    """Evacuations away from ``host`` whose leftovers it must remove."""
    return evacuations.from_host(host)


def cleaned(migration_uuid):
    return evacuations.completed(migration_uuid)


def fail_stranded(context):
    """No server waits in REBUILD for a destination that went down: its
    evacuation fails (ERROR with a fault, back on its source). A
    destination that comes back finds it gone from its records and removes
    what it had made as an orphan."""
    for uuid, migration_uuid, dest in evacuations.stranded():
        LOG.warning('Destination %s of evacuating %s is down: failing the evacuation', dest,
                    uuid)
        report(context, uuid, migration_uuid, False, 0,
               message='The compute service of %s went down during the evacuation.' % dest)
