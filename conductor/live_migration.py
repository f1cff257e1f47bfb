"""What compute agents report of a live migration, applied to the records
(conductor.live_migrations): the agents hold no database credentials."""

from oslo_log import log as logging

from blockstore import attachments
from common.db import instances
from conductor import live_migrations
from conductor import resizes
from network import notify
from network import state as netstate

LOG = logging.getLogger(__name__)



def report(context, uuid, migration_uuid, step, ok, power_state, message=None):
    """``step`` 'prepare' (from the destination: bind the ports there;
    answers {'network_info', 'block_devices'} or None when the migration
    is over) or
    'migrate' (from the source: ``ok`` the guest runs on the destination,
    else it stayed on the source, ``message`` says why). Answers the
    instance dict it ends as, or None."""
    mig = resizes.get(migration_uuid)
    if mig is None:
        LOG.warning('Live migration report for unknown migration %s of %s',
                    migration_uuid, uuid)
        return None
    if step == 'prepare':
        network_info = live_migrations.prepared(uuid, migration_uuid)
        if network_info is None:
            return None
        # The other hosts on the server's networks learn the destination
        # as a VXLAN peer; the source keeps serving until the switch.
        notify.refresh_hosts(context, netstate.hosts_for_instance(uuid) -
                            {mig.source_compute, mig.dest_compute})
        return {'network_info': network_info,
                'block_devices': attachments.block_devices_of([uuid])[uuid]}
    if step != 'migrate':
        raise ValueError('unknown live migration step %s' % step)
    if ok:
        inst = live_migrations.completed(uuid, migration_uuid, power_state)
    else:
        inst = live_migrations.failed(uuid, migration_uuid, power_state)
    notify.refresh_hosts(context, netstate.hosts_for_instance(uuid) |
                        {mig.source_compute, mig.dest_compute})
    LOG.info('Live migration of %s from %s to %s: %s', uuid, mig.source_compute,
             mig.dest_compute, 'done' if ok else 'failed: %s' % message)
    return instances.to_dict(inst) if inst is not None else None
