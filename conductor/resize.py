"""What a compute agent reports of a resize, applied to the records
(conductor.resizes): the agent holds no database credentials."""

import sqlalchemy as sa
from oslo_log import log as logging

from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from conductor import resizes
from network import notify
from network import ports
from network import state as netstate

LOG = logging.getLogger(__name__)



def report(context, uuid, migration_uuid, step, ok, power_state, message=None):
    """``step``: 'resize', 'confirm' or 'revert'; ``ok`` False with a
    ``message`` when it failed. The instance dict it ends as, or None."""
    mig = resizes.get(migration_uuid)
    if mig is None:
        LOG.warning('Resize report for unknown migration %s of %s', migration_uuid, uuid)
        return None
    if step == 'resize':
        inst = (resizes.finished(uuid, migration_uuid, power_state) if ok else
                resizes.failed(uuid, migration_uuid, power_state, message or 'Resize failed.',
                               [st.RESIZE_PREP, st.RESIZE_MIGRATING]))
    elif step == 'confirm':
        inst = resizes.confirmed(uuid, migration_uuid, power_state)
    elif step == 'revert':
        inst = (resizes.reverted(uuid, migration_uuid, power_state) if ok else
                resizes.revert_failed(uuid, migration_uuid, power_state,
                                       message or 'Revert failed.'))
    else:
        raise ValueError('unknown resize step %s' % step)
    LOG.info('Resize of %s: %s %s', uuid, step, 'done' if ok else 'failed: %s' % message)
    return instances.to_dict(inst) if inst is not None else None


def open_migrations(uuids):
    """{instance uuid: migration dict} of those with a resize under way."""
    out = {}
    for uuid in uuids:
        mig = resizes.get_open(uuid)
        if mig is not None:
            out[uuid] = resizes.to_dict(mig)
    return out


def moved_away_from(host, skip):
    """Instance rows whose open move to another host started on ``host``
    (not in ``skip``): their old guest and disk are still there."""
    M = cm.Migration
    with db_api.reader() as s:
        rows = s.scalars(sa.select(cm.Instance).join(
            M, M.instance_uuid == cm.Instance.uuid).where(
            M.source_compute == host, M.dest_compute != host, M.status.in_(resizes.OPEN),
            cm.Instance.deleted.is_(False)))
        return [r for r in rows if r.uuid not in skip]


def bind_moving_ports(context, uuid, host):
    """The ports of a server moving between hosts go to ``host`` (about to
    run its guest); the hosts that served them resync. Its network_info."""
    before = netstate.hosts_for_instance(uuid)
    network_info = ports.bind_instance_ports(uuid, host)
    notify.refresh_hosts(context, (before | netstate.hosts_for_instance(uuid)) - {host})
    LOG.info('Ports of %s bound to %s', uuid, host)
    return network_info
