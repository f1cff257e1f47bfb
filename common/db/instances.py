"""Instance records, their actions and action events.

Used by the compute API (create, read, start actions) and the scheduler
(which also records what compute agents report, as they hold no database
credentials). State changes are compare-and-set: an update names the
states it expects, and a changed instance makes it fail with a 409.
"""

import traceback as tb_mod

import sqlalchemy as sa

from common import exception
from common import instance_states as st
from common import quota
from common.db import api as db_api
from common.db import compute_models as cm
from common.db.models import utcnow

_ANY = object()
ANY = _ANY  # (any state, any host: the default of update)


class InstanceNotFound(exception.NotFound):
    msg_fmt = 'Instance %(uuid)s could not be found.'


class InstanceInvalidState(exception.Conflict):
    msg_fmt = ("Cannot '%(action)s' instance %(uuid)s while it is in vm_state %(vm_state)s"
               "%(task)s")

    def __init__(self, action, uuid, vm_state, task_state):
        task = ' and task_state %s' % task_state if task_state else ''
        super().__init__(action=action, uuid=uuid, vm_state=vm_state, task=task)


class InstanceIsLocked(exception.Conflict):
    msg_fmt = 'Instance %(uuid)s is locked'


def get(uuid, project_id=None, session=None, deleted=False):
    def _get(s):
        q = sa.select(cm.Instance).where(cm.Instance.uuid == uuid)
        if not deleted:
            q = q.where(cm.Instance.deleted.is_(False))
        if project_id is not None:
            q = q.where(cm.Instance.project_id == project_id)
        inst = s.scalars(q).first()
        if inst is None:
            raise InstanceNotFound(uuid=uuid)
        return inst
    if session is not None:
        return _get(session)
    with db_api.reader() as s:
        return _get(s)


def update(uuid, values, vm_states=_ANY, task_states=_ANY, action='update', unlocked=False,
           hosts=_ANY):
    """Set ``values`` if the instance is in one of the expected states
    (and, with ``unlocked``, not locked; with ``hosts``, on one of them,
    None for none)."""
    values = dict(values, updated_at=utcnow())
    inst_t = cm.Instance
    cond = [inst_t.uuid == uuid, inst_t.deleted.is_(False)]
    if unlocked:
        cond.append(sa.or_(inst_t.locked.is_(None), inst_t.locked.is_(False)))
    if vm_states is not _ANY:
        cond.append(inst_t.vm_state.in_(list(vm_states)))
    if task_states is not _ANY:
        tasks = [t for t in task_states if t is not None]
        if None in task_states:
            cond.append(sa.or_(inst_t.task_state.is_(None), inst_t.task_state.in_(tasks)))
        else:
            cond.append(inst_t.task_state.in_(tasks))
    if hosts is not _ANY:
        named = [h for h in hosts if h is not None]
        cond.append(sa.or_(inst_t.host.in_(named), *([inst_t.host.is_(None)]
                                                     if None in hosts else [])))
    with db_api.session() as s:
        res = s.execute(sa.update(inst_t).where(*cond).values(**values))
        if res.rowcount != 1:
            inst = get(uuid, session=s)
            if unlocked and inst.locked:
                raise InstanceIsLocked(uuid=uuid)
            raise InstanceInvalidState(action, uuid, inst.vm_state, inst.task_state)
        return get(uuid, session=s)


def begin_action(context, uuid, action, values=None, record_as=None):
    """Check the state table (and the lock: only admins act on a locked
    server), set the task_state (and ``values``) and record the action
    (as ``record_as`` when the API's name differs from the table's)."""
    vm_ok, task_ok, next_task = st.ACTIONS[action]
    values = dict(values or {})
    if next_task:
        values['task_state'] = next_task
    inst = update(uuid, values, vm_states=vm_ok,
                  task_states=task_ok if task_ok is not None else _ANY, action=action,
                  unlocked=action not in st.LOCK_EXEMPT and not context.is_admin_role)
    record_action(context, uuid, record_as or action)
    return inst


def lock(context, uuid):
    """Lock the server, by its 'owner' (a caller of its project) or an
    'admin' (anyone else, who may only be an admin); any state will do."""
    with db_api.session() as s:
        inst = get(uuid, session=s)
        inst.locked = True
        inst.locked_by = 'owner' if context.project_id == inst.project_id else 'admin'
        inst.updated_at = utcnow()
    record_action(context, uuid, 'lock')
    return get(uuid)


def unlock(context, uuid):
    with db_api.session() as s:
        inst = get(uuid, session=s)
        inst.locked, inst.locked_by, inst.updated_at = False, None, utcnow()
    record_action(context, uuid, 'unlock')
    return get(uuid)


def record_action(context, uuid, action, message=None):
    with db_api.session() as s:
        s.add(cm.InstanceAction(instance_uuid=uuid, request_id=context.request_id,
                                action=action, project_id=context.project_id,
                                user_id=context.user_id, message=message))


def _action_for(s, uuid, request_id):
    A = cm.InstanceAction
    return s.scalars(sa.select(A).where(A.instance_uuid == uuid, A.request_id == request_id)
                     .order_by(A.id.desc())).first()


def event_start(request_id, uuid, event, host=None):
    with db_api.session() as s:
        action = _action_for(s, uuid, request_id)
        if action is None:
            return
        s.add(cm.InstanceActionEvent(action_id=action.id, event=event, host=host,
                                     start_time=utcnow()))
        action.updated_at = utcnow()


def event_finish(request_id, uuid, event, result='Success', traceback=None, details=None):
    E = cm.InstanceActionEvent
    now = utcnow()
    with db_api.session() as s:
        action = _action_for(s, uuid, request_id)
        if action is None:
            return
        ev = s.scalars(sa.select(E).where(E.action_id == action.id, E.event == event,
                                          E.finish_time.is_(None))
                       .order_by(E.id.desc())).first()
        if ev is None:
            ev = E(action_id=action.id, event=event, start_time=now)
            s.add(ev)
        ev.finish_time, ev.result, ev.traceback, ev.details = now, result, traceback, details
        action.updated_at = now
        if result == 'Error':
            action.message = 'Error'
        action.finish_time = now


def format_fault(exc, code=500, with_traceback=False):
    fault = {'code': code, 'message': str(exc)[:255] or type(exc).__name__,
             'created': utcnow().strftime('%Y-%m-%dT%H:%M:%SZ')}
    if with_traceback:
        fault['details'] = ''.join(tb_mod.format_exception(exc))[-4000:]
    return fault


def to_dict(inst):
    """The primitive form compute agents receive over the bus."""
    return {
        'uuid': inst.uuid, 'name': inst.display_name, 'hostname': inst.hostname,
        'project_id': inst.project_id, 'user_id': inst.user_id,
        'flavor': dict(inst.flavor), 'image_ref': inst.image_ref,
        'key_name': inst.key_name, 'key_data': inst.key_data, 'user_data': inst.user_data,
        'metadata': dict(inst.meta or {}), 'launch_index': inst.launch_index,
        'availability_zone': inst.availability_zone, 'host': inst.host,
        'vm_state': inst.vm_state, 'task_state': inst.task_state,
        'power_state': inst.power_state,
        'created_at': inst.created_at.strftime('%Y-%m-%dT%H:%M:%SZ'),
    }


def on_host(host):
    """The instance rows (not deleted) placed on ``host``."""
    with db_api.reader() as s:
        return list(s.scalars(sa.select(cm.Instance).where(
            cm.Instance.host == host, cm.Instance.deleted.is_(False))))


def mark_deleted(uuid):
    """Mark the instance deleted, give back its quota and leave its group:
    False if it was already (conductor.records.finish_delete gives back
    the rest)."""
    now = utcnow()
    with db_api.session() as s:
        inst = s.get(cm.Instance, uuid)
        if inst is None or inst.deleted:
            return False
        inst.deleted, inst.deleted_at, inst.terminated_at = True, now, now
        inst.vm_state, inst.task_state, inst.updated_at = st.DELETED, None, now
        quota.release(s, inst.project_id, quota.instance_deltas(inst.flavor))
        s.execute(sa.delete(cm.ServerGroupMember).where(
            cm.ServerGroupMember.instance_uuid == uuid))
    return True
