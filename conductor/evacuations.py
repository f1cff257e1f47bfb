"""The records of an evacuation: a server whose host is down is rebuilt on
another host (migration_type 'evacuation' in the migrations table).

- start (compute API): the destination is claimed under the migration's
  uuid (conductor.resizes.start with the server's own flavor), the server
  is placed on the destination and its ports are bound there, so the
  destination's agent finds it in its records and its network state.
- done (scheduler, for the destination's agent): the source's claim is
  given back and the migration's becomes the instance's; status 'done'.
- failed: the destination's claim is given back, the server goes back to
  its source host (and its ports with it) in ERROR with a fault; status
  'failed'. It can be evacuated again.
- stranded: evacuations whose destination's service went down before it
  reported (the scheduler fails them, so no server stays in REBUILD).
- from_host / completed: the source's agent, back again, removes what is
  left of servers evacuated away ('done') and marks them 'completed'.
"""

import sqlalchemy as sa

from common import instance_states as st
from common import servicegroup
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from conductor import resizes
from network import ports

M = cm.Migration
TYPE = 'evacuation'
# migration statuses (Nova's words): 'migrating' while the destination
# rebuilds (resizes.MIGRATING, an open migration), then one of these.
DONE = 'done'
COMPLETED = 'completed'
FAILED = 'failed'
# task states an evacuation passes through on the destination
TASKS = (st.REBUILDING, st.REBUILD_SPAWNING)

_POWER_RUNNING = 1  # compute.virt.power_state.RUNNING


def start(context, inst, choose):
    """Begin the evacuation of ``inst`` (a row; the caller checked that its
    host is down). Returns (instance row, migration dict, network_info).
    Raises InstanceInvalidState / InstanceIsLocked (nothing changed) or
    resizes.NoRoom (an Error event and a fault say why; nothing moved)."""
    inst, mig = resizes.start(context, inst, dict(inst.flavor), choose,
                              migration_type=TYPE, action='evacuate',
                              event='scheduler_select_destination')
    try:
        inst = instances.update(inst.uuid, {'host': mig['dest_compute'],
                                            'node': _get(mig['uuid']).dest_node},
                                task_states=[st.REBUILDING], action='evacuate')
    except (instances.InstanceInvalidState, instances.InstanceNotFound):
        resizes.abandon(mig['uuid'], FAILED)  # deleted meanwhile: give the claim back
        raise
    network_info = ports.bind_instance_ports(inst.uuid, mig['dest_compute'])
    return inst, mig, network_info


def _get(migration_uuid):
    return resizes.get(migration_uuid)


def _resting(power_state):
    return st.ACTIVE if power_state == _POWER_RUNNING else st.STOPPED


def done(uuid, migration_uuid, power_state):
    """The destination runs the server (or holds it stopped): the claims
    follow. The instance row, or None if it changed meanwhile."""
    mig = _get(migration_uuid)
    if mig is None or mig.migration_type != TYPE:
        return None
    try:
        inst = instances.update(uuid, {'vm_state': _resting(power_state), 'task_state': None,
                                       'power_state': power_state, 'fault': None,
                                       'launched_at': instances.utcnow(),
                                       'host': mig.dest_compute, 'node': mig.dest_node},
                                task_states=list(TASKS), action='evacuated')
    except (instances.InstanceInvalidState, instances.InstanceNotFound):
        return None
    if resizes.set_status(migration_uuid, DONE, expected=[resizes.MIGRATING]):
        resizes.keep_destination_claim(uuid, migration_uuid)
    return inst


def failed(uuid, migration_uuid, power_state, message):
    """The destination could not rebuild the server: its claim is given
    back and the server rests in ERROR on its source host with a fault."""
    mig = _get(migration_uuid)
    if mig is None or mig.migration_type != TYPE:
        return None
    resizes.abandon(migration_uuid, FAILED)
    try:
        inst = instances.update(uuid, {'vm_state': st.ERROR, 'task_state': None,
                                       'power_state': power_state,
                                       'fault': instances.format_fault(message, 500),
                                       'host': mig.source_compute, 'node': mig.source_node},
                                task_states=list(TASKS), action='evacuation failed')
    except (instances.InstanceInvalidState, instances.InstanceNotFound):
        return None
    ports.bind_instance_ports(uuid, mig.source_compute)
    return inst


def from_host(host):
    """Evacuations away from ``host`` whose leftovers there still wait to be
    removed: [{'uuid', 'instance_uuid', 'dest_compute', 'instance_host'}]
    (instance_host None when the server is deleted)."""
    with db_api.reader() as s:
        rows = s.execute(sa.select(M, cm.Instance.host, cm.Instance.deleted)
                         .outerjoin(cm.Instance, cm.Instance.uuid == M.instance_uuid)
                         .where(M.migration_type == TYPE, M.source_compute == host,
                                M.status == DONE).order_by(M.id)).all()
    return [{'uuid': m.uuid, 'instance_uuid': m.instance_uuid, 'dest_compute': m.dest_compute,
             'instance_host': None if deleted else ihost} for m, ihost, deleted in rows]


def completed(migration_uuid):
    """The source host removed its leftovers: 'done' -> 'completed'."""
    return resizes.set_status(migration_uuid, COMPLETED, expected=[DONE])


def stranded():
    """Evacuations under way whose destination's compute service is down:
    [(instance uuid, migration uuid, destination)]."""
    with db_api.reader() as s:
        rows = s.execute(sa.select(M.instance_uuid, M.uuid, M.dest_compute)
                         .where(M.migration_type == TYPE, M.status == resizes.MIGRATING)
                         ).all()
    if not rows:
        return []
    up = {r.host for r in servicegroup.list_services(binary='nova-compute')
          if servicegroup.is_up(r)}
    return [tuple(r) for r in rows if r.dest_compute not in up]
