"""The records of a live migration: the server runs throughout, on its
source host until the switch and on the destination after it.

- start (compute API): the migrations row (type 'live-migration') and the
  destination's claim under the migration's uuid (conductor.resizes.start
  with the scheduler's select_destination); the server is MIGRATING.
- prepared (scheduler, for the destination agent): the server's ports are
  bound to the destination, whose data plane serves them from then on.
- completed: the instance's host and node become the destination's, its
  own claim on the source is given back and the migration's claim becomes
  the instance's; status 'completed'.
- failed: the ports go back to the source, the destination's claim is
  given back, status 'error'; the server rests on its source, as it was.
"""

from common import instance_states as st
from common.db import instances
from conductor import resizes
from network import ports

TYPE = 'live-migration'
ACTION = 'live_migrate'
COMPLETED = 'completed'
# power_state (compute.virt.power_state numbering; common/ does not import
# compute/) -> where a migrated guest rests
_RESTING = {1: st.ACTIVE, 3: st.PAUSED}


def start(context, inst, choose):
    """Begin a live migration of ``inst`` (a row, checked by the caller);
    ``choose`` as for conductor.resizes.start. Returns (instance row,
    migration dict); raises what resizes.start raises (NoRoom: no host)."""
    return resizes.start(context, inst, dict(inst.flavor), choose, migration_type=TYPE,
                         action=ACTION)


def _open(uuid, migration_uuid):
    mig = resizes.get(migration_uuid)
    if mig is None or mig.instance_uuid != uuid or mig.migration_type != TYPE:
        return None
    return mig


def prepared(uuid, migration_uuid):
    """Bind the server's ports to the destination: its network_info there
    (a list), or None if the migration is no longer under way."""
    mig = _open(uuid, migration_uuid)
    if mig is None or mig.status != resizes.MIGRATING:
        return None
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return None
    if inst.task_state != st.MIGRATING:
        return None
    return ports.bind_instance_ports(uuid, mig.dest_compute)


def _resting(power_state, inst):
    return _RESTING.get(power_state, inst.vm_state)


def completed(uuid, migration_uuid, power_state):
    """The guest runs on the destination: the records follow it."""
    mig = _open(uuid, migration_uuid)
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        inst = None
    if mig is None or inst is None:
        return None
    if resizes.set_status(migration_uuid, COMPLETED, expected=[resizes.MIGRATING]):
        resizes.keep_destination_claim(uuid, migration_uuid)
        ports.bind_instance_ports(uuid, mig.dest_compute)  # already, unless prepare failed
    try:
        return instances.update(uuid, {'host': mig.dest_compute, 'node': mig.dest_node,
                                       'vm_state': _resting(power_state, inst),
                                       'task_state': None, 'power_state': power_state},
                                task_states=[st.MIGRATING], action='live migration done')
    except instances.InstanceInvalidState:
        return None


def failed(uuid, migration_uuid, power_state):
    """The guest stayed on its source: ports and records go back there."""
    mig = _open(uuid, migration_uuid)
    if mig is None:
        return None
    resizes.abandon(migration_uuid, resizes.ERROR)
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return None
    ports.bind_instance_ports(uuid, mig.source_compute)
    try:
        return instances.update(uuid, {'host': mig.source_compute, 'node': mig.source_node,
                                       'vm_state': _resting(power_state, inst),
                                       'task_state': None, 'power_state': power_state},
                                task_states=[st.MIGRATING], action='live migration failed')
    except (instances.InstanceInvalidState, instances.InstanceNotFound):
        return None
