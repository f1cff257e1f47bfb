"""The records of a resize on the server's own host: quota, claims and the
migration record.

While a server waits in VERIFY_RESIZE it holds two claims on its node: the
old flavor's under the instance's uuid and the new flavor's under the
migration's uuid, so the node's records never promise room twice. Quota
usage meanwhile counts the larger of the two flavors per resource.

- start (compute API): quota for the growth, the second claim, the record.
- finished (scheduler, for the agent): the new flavor in the instance.
- confirmed: the old claim is given back; the new one becomes the
  instance's; quota drops to the new flavor.
- reverted / failed: the new claim and the quota growth are given back;
  the instance keeps (or gets back) its old flavor.
"""

import uuid as uuid_mod

import sqlalchemy as sa

from common import instance_states as st
from common import quota
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from common.db.models import utcnow
from scheduler import claims

M = cm.Migration
# migration statuses (Nova's words)
MIGRATING = 'migrating'
FINISHED = 'finished'
CONFIRMING = 'confirming'
CONFIRMED = 'confirmed'
REVERTING = 'reverting'
REVERTED = 'reverted'
ERROR = 'error'
OPEN = (MIGRATING, FINISHED, CONFIRMING, REVERTING)


def growth(old, new):
    """Quota deltas a resize from ``old`` to ``new`` adds (never negative)."""
    return {'cores': max(0, new['vcpus'] - old['vcpus']),
            'ram': max(0, new['memory_mb'] - old['memory_mb'])}


def shrink(old, new):
    """What confirming a resize from ``old`` to ``new`` gives back."""
    return growth(new, old)


def disk_gb(inst, new_flavor):
    """The root disk the new flavor needs on the host: none for a server
    booted from a volume, the current size when the flavor says 0."""
    if not inst.image_ref:
        return 0
    return new_flavor.get('root_gb') or inst.root_gb or 0


def to_dict(mig):
    return {'uuid': mig.uuid, 'instance_uuid': mig.instance_uuid, 'status': mig.status,
            'migration_type': mig.migration_type, 'source_compute': mig.source_compute,
            'dest_compute': mig.dest_compute, 'old_flavor': dict(mig.old_flavor),
            'new_flavor': dict(mig.new_flavor), 'vm_state_before': mig.vm_state_before}


def get_open(instance_uuid):
    """The instance's migration still in progress (or awaiting its
    confirmation), or None."""
    with db_api.reader() as s:
        return s.scalars(sa.select(M).where(M.instance_uuid == instance_uuid,
                                            M.status.in_(OPEN))
                         .order_by(M.id.desc())).first()


def get(migration_uuid):
    with db_api.reader() as s:
        return s.scalars(sa.select(M).where(M.uuid == migration_uuid)).first()


def _set_status(migration_uuid, status, expected=None):
    """Compare-and-set of a migration's status; False if it was elsewhere."""
    cond = [M.uuid == migration_uuid]
    if expected is not None:
        cond.append(M.status.in_(list(expected)))
    with db_api.session() as s:
        res = s.execute(sa.update(M).where(*cond).values(status=status, updated_at=utcnow()))
        return res.rowcount == 1


def _release_quota(project_id, deltas):
    with db_api.session() as s:
        quota.release(s, project_id, deltas)


class NoRoom(Exception):
    """No host can take the server with the new flavor (the message says
    why, filter by filter)."""


def start(context, inst, new_flavor, choose, migration_type='resize', action='resize',
          event='compute_prep_resize'):
    """Begin a move of ``inst`` (a row, checked by the caller) with
    ``new_flavor`` (an embedded flavor dict; the same one for a migration).

    ``choose(migration_uuid, new_flavor)`` claims room on a destination
    under the migration's uuid (the scheduler's select_destination) and
    returns {'host', 'node'} or {'host': None, 'reason'}; it is called once
    the server is in its task state, so nothing else moves it meanwhile.
    Returns (instance row, migration dict). Raises OverQuota,
    InstanceInvalidState or InstanceIsLocked (nothing changed) or NoRoom
    (the action is recorded with an Error event and a fault, the server
    rests where it was)."""
    old = dict(inst.flavor)
    delta = growth(old, new_flavor)
    limits = quota.prepare(inst.project_id)
    with db_api.session() as s:
        quota.consume(s, inst.project_id, delta, limits)
    try:
        inst = instances.begin_action(context, inst.uuid, action)
    except Exception:
        _release_quota(inst.project_id, delta)
        raise
    mig_uuid = str(uuid_mod.uuid4())
    instances.event_start(context.request_id, inst.uuid, event)
    try:
        dest = choose(mig_uuid, dict(new_flavor))
    except Exception as e:  # noqa: BLE001 - the scheduler did not answer: give all back
        claims.release(mig_uuid)
        dest = {'host': None, 'reason': 'The scheduler could not be reached (%s).'
                % type(e).__name__}
    if not dest.get('host'):
        _release_quota(inst.project_id, delta)
        message = dest.get('reason') or 'No valid host was found.'
        instances.update(inst.uuid, {'task_state': None,
                                     'fault': instances.format_fault(message, 500)},
                         task_states=[st.TASK_OF[action]], action=action)
        # details show from microversion 2.84; admins see the traceback field
        # at any: it carries the reason too.
        instances.event_finish(context.request_id, inst.uuid, event,
                               result='Error', details=message,
                               traceback='NoValidHost: %s' % message)
        raise NoRoom(message)
    with db_api.session() as s:
        mig = M(uuid=mig_uuid, instance_uuid=inst.uuid, migration_type=migration_type,
                status=MIGRATING, source_compute=inst.host, dest_compute=dest['host'],
                source_node=inst.node, dest_node=dest.get('node') or dest['host'],
                old_flavor=old, new_flavor=dict(new_flavor), quota_delta=delta,
                vm_state_before=inst.vm_state)
        s.add(mig)
        s.flush()
        out = to_dict(mig)
    instances.event_finish(context.request_id, inst.uuid, event, details=dest['host'])
    return inst, out


def _placed(mig, where):
    """host and node of the instance on the migration's ``where`` side
    ('source' or 'dest')."""
    return {'host': getattr(mig, where + '_compute'), 'node': getattr(mig, where + '_node')}


def _flavor_values(flavor, inst):
    """The instance's flavor and its sizes (root_gb as create counts it:
    0 for a server booted from a volume, kept when the flavor says 0)."""
    root_gb = (flavor.get('root_gb') or inst.root_gb) if inst.image_ref else 0
    return {'flavor': dict(flavor), 'vcpus': flavor['vcpus'],
            'memory_mb': flavor['memory_mb'], 'root_gb': root_gb}


def _instance(uuid):
    try:
        return instances.get(uuid)
    except instances.InstanceNotFound:
        return None


def keep_destination_claim(uuid, migration_uuid):
    """A move that is final: the instance gives back its own claim (on
    its source) and the migration's claim (on the destination) becomes the
    instance's."""
    claims.release(uuid)
    claims.move(migration_uuid, uuid)


def abandon(migration_uuid, status, deltas=None):
    """Give back the second claim and the quota growth (or ``deltas``) of a
    migration that will not be confirmed: it failed, was reverted, or its
    server was deleted. Once only: the status is the guard."""
    with db_api.session() as s:
        row = s.scalars(sa.select(M).where(M.uuid == migration_uuid)).first()
        if row is None:
            return False
        res = s.execute(sa.update(M).where(M.uuid == migration_uuid, M.status.in_(OPEN))
                        .values(status=status, updated_at=utcnow()))
        if res.rowcount != 1:
            return False
        inst = s.get(cm.Instance, row.instance_uuid)
        if inst is not None:
            quota.release(s, inst.project_id,
                          dict(row.quota_delta or {}) if deltas is None else deltas)
    claims.release(migration_uuid)
    return True


def finished(uuid, migration_uuid, power_state):
    """The agent ran the guest with the new flavor: VERIFY_RESIZE."""
    mig = get(migration_uuid)
    inst = _instance(uuid)
    if mig is None or inst is None:
        return None
    values = dict(_flavor_values(mig.new_flavor, inst), vm_state=st.RESIZED,
                  task_state=None, power_state=power_state, fault=None,
                  **_placed(mig, 'dest'))
    try:
        inst = instances.update(uuid, values,
                                task_states=[st.RESIZE_PREP, st.RESIZE_MIGRATING],
                                action='finish resize')
    except instances.InstanceInvalidState:
        return None
    _set_status(migration_uuid, FINISHED, expected=[MIGRATING])
    return inst


def failed(uuid, migration_uuid, power_state, message, from_tasks):
    """The agent could not resize: the records go back to the old flavor and
    the server rests where its guest is (its source host). A report that
    comes after the server moved on (a destination that finished after
    all) changes nothing: the second claim stays with the move that won."""
    values = {'vm_state': _resting(power_state), 'task_state': None,
              'power_state': power_state, 'fault': instances.format_fault(message, 500)}
    mig = get(migration_uuid)
    inst = _instance(uuid)
    if mig is not None and inst is not None:
        values.update(_flavor_values(mig.old_flavor, inst), **_placed(mig, 'source'))
    try:
        inst = instances.update(uuid, values, task_states=from_tasks, action='resize failed')
    except instances.InstanceInvalidState:
        return None
    except instances.InstanceNotFound:
        inst = None
    abandon(migration_uuid, ERROR)
    return inst


def confirmed(uuid, migration_uuid, power_state):
    """Give back the old flavor's claim and the quota the new one does not
    use; the new claim becomes the instance's own."""
    mig = get(migration_uuid)
    inst = _instance(uuid)
    if mig is None or inst is None:
        return None
    if _set_status(migration_uuid, CONFIRMED, expected=[CONFIRMING, FINISHED]):
        keep_destination_claim(uuid, migration_uuid)
        _release_quota(inst.project_id, shrink(mig.old_flavor, mig.new_flavor))
    try:
        return instances.update(uuid, {'vm_state': _resting(power_state), 'task_state': None,
                                       'power_state': power_state},
                                task_states=[st.RESIZE_CONFIRMING], action='confirm resize')
    except instances.InstanceInvalidState:
        return None


def reverted(uuid, migration_uuid, power_state):
    """The guest runs with its old flavor again: the new claim and the
    quota growth are given back."""
    mig = get(migration_uuid)
    inst = _instance(uuid)
    if mig is None or inst is None:
        return None
    abandon(migration_uuid, REVERTED)
    values = dict(_flavor_values(mig.old_flavor, inst), **_placed(mig, 'source'),
                  vm_state=_resting(power_state), task_state=None, power_state=power_state)
    try:
        return instances.update(uuid, values, task_states=[st.RESIZE_REVERTING],
                                action='revert resize')
    except instances.InstanceInvalidState:
        return None


def revert_failed(uuid, migration_uuid, power_state, message):
    """A revert that did not happen: the server stays resized, both claims
    held, so the owner can try again or confirm."""
    _set_status(migration_uuid, FINISHED, expected=[REVERTING])
    try:
        return instances.update(uuid, {'vm_state': st.RESIZED, 'task_state': None,
                                       'power_state': power_state,
                                       'fault': instances.format_fault(message, 500)},
                                task_states=[st.RESIZE_REVERTING], action='revert failed')
    except (instances.InstanceInvalidState, instances.InstanceNotFound):
        return None


def set_status(migration_uuid, status, expected):
    return _set_status(migration_uuid, status, expected)


def on_delete(instance_uuid):
    """A server deleted mid-resize gives back its second claim and the
    quota its record does not (the delete gives back its current flavor:
    the old one while migrating, the new one once resized)."""
    with db_api.reader() as s:
        open_ = list(s.scalars(sa.select(M).where(M.instance_uuid == instance_uuid,
                                                   M.status.in_(OPEN))))
    for mig in open_:
        deltas = None if mig.status == MIGRATING else shrink(mig.old_flavor, mig.new_flavor)
        abandon(mig.uuid, ERROR, deltas=deltas)


_POWER_RUNNING = 1  # compute.virt.power_state.RUNNING (common/ does not import compute/)


def _resting(power_state):
    return st.ACTIVE if power_state == _POWER_RUNNING else st.STOPPED
