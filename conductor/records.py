"""The records compute agents keep through the conductor: they hold no
database credentials, so what they see and do is written here.

Both the conductor's endpoints (conductor.manager) and, for one release,
the scheduler's deprecated ones (scheduler.manager, for agents of the
previous release that still send there) call these functions.
"""

from oslo_log import log as logging

from blockstore import attachments
from common import instance_states as st
from common import unit_of_work
from common.db import instances
from conductor import evacuations
from conductor import resize
from conductor import resizes
from network import notify
from network import ports
from network import state as netstate
from scheduler import claims

LOG = logging.getLogger(__name__)

# Fields a compute agent may set on an instance it runs.
AGENT_FIELDS = {'vm_state', 'task_state', 'power_state', 'launched_at', 'fault', 'progress',
                'image_ref'}  # image_ref: a failed rebuild puts the old one back


def instance_event(context, uuid, event, phase, result=None, details=None, host=None):
    if phase == 'start':
        instances.event_start(context.request_id, uuid, event, host=host)
    else:
        instances.event_finish(context.request_id, uuid, event, result=result or 'Success',
                               details=details)


def instance_update(context, uuid, values, expected_task_states=None):
    """Set the fields an agent may set; the instance dict, or None if it is
    gone or in another task."""
    values = {k: v for k, v in values.items() if k in AGENT_FIELDS}
    if values.get('launched_at') == 'now':
        values['launched_at'] = instances.utcnow()
    kwargs = {}
    if expected_task_states is not None:
        kwargs['task_states'] = expected_task_states
    try:
        inst = instances.update(uuid, values, action='agent update', **kwargs)
    except instances.InstanceInvalidState as e:
        inst = _applied_before(uuid, values)
        if inst is None:
            LOG.info('Agent update of %s not applied: %s', uuid, e)
            return None
    except instances.InstanceNotFound as e:
        LOG.info('Agent update of %s not applied: %s', uuid, e)
        return None
    return instances.to_dict(inst)


def _applied_before(uuid, values):
    """On a try again of the unit (the connection died as the last one
    committed, perhaps after all), the instance when it already holds the
    states of ``values``: that update was this one, and the agent must hear
    it went (not that the server changed under it, which would cancel its
    build or take its new guest down)."""
    if not unit_of_work.rerun():
        return None
    inst = instances.get(uuid)
    states = [k for k in ('vm_state', 'task_state', 'power_state') if k in values]
    if not states or any(getattr(inst, k) != values[k] for k in states):
        return None
    LOG.info('Agent update of %s was applied by the try that lost its connection', uuid)
    return inst


def finish_delete(request_id, uuid):
    """Give back ports, mark deleted, give back claims and quota (and those
    of a move under way), leave the group. Idempotent."""
    ports.deallocate_for_instance(uuid)
    if not instances.mark_deleted(uuid):
        return
    claims.release(uuid)
    resizes.on_delete(uuid)
    instances.event_finish(request_id, uuid, 'terminate')


def instance_deleted(context, uuid, host):
    peers = netstate.hosts_for_instance(uuid) - {host}
    finish_delete(context.request_id, uuid)
    notify.refresh_hosts(context, peers)  # their remote-group rules named its addresses
    return True


def get_host_instances(host):
    """The servers ``host`` should run, each with its block devices and the
    move under way ('migration'), if any."""
    rows = instances.on_host(host)
    # A server that moved away but may still come back (VERIFY_RESIZE
    # after a move to another host) keeps its old guest here.
    rows += resize.moved_away_from(host, {i.uuid for i in rows})
    devices = attachments.block_devices_of([i.uuid for i in rows])
    migrations = resize.open_migrations(
        [i.uuid for i in rows if i.vm_state == st.RESIZED or i.task_state in
         st.RESIZE_TASKS or i.task_state in evacuations.TASKS or
         i.task_state == st.MIGRATING])
    return [dict(instances.to_dict(i), block_devices=devices[i.uuid],
                 migration=migrations.get(i.uuid)) for i in rows]


def get_host_network_state(host):
    return netstate.host_state(host)


def fail_build(context, uuid, message):
    """The server's build is over: ERROR, with a fault that says why."""
    LOG.warning('Instance %s: %s', uuid, message)
    try:
        instances.update(uuid, {'vm_state': st.ERROR, 'task_state': None,
                                'fault': {'code': 500, 'message': message[:4000],
                                          'created': instances.utcnow().strftime(
                                              '%Y-%m-%dT%H:%M:%SZ')}},
                         action='fail build')
    except instances.InstanceNotFound:
        return
    instances.event_finish(context.request_id, uuid, 'schedule', result='Error',
                           details=message[:4000])


def build_failed(context, uuid, host, message, max_attempts, reschedule=True):
    """An agent could not build: free its claim, then give up (ERROR) or
    put the server back to be scheduled. True when it waits for the
    scheduler again (the caller asks for that)."""
    node = claims.node_for_host(host)
    claims.release(uuid, node.id if node else None)
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return False
    spec = dict(inst.request_spec)
    tried = list(spec.get('tried_hosts', [])) + [host]
    spec.update(tried_hosts=tried, last_error=message[:500])
    if not reschedule or len(tried) >= max_attempts:
        instances.update(uuid, {'request_spec': spec}, action='build failed')
        fail_build(context, uuid, 'Build failed on %d host%s (%s); last error on %s: %s'
                   % (len(tried), '' if len(tried) == 1 else 's', ', '.join(tried), host,
                      message))
        return False
    try:
        instances.update(uuid, {'request_spec': spec, 'host': None, 'node': None,
                                'task_state': st.SCHEDULING},
                         vm_states=[st.BUILDING], action='reschedule')
    except instances.InstanceInvalidState:
        return False
    LOG.info('Instance %s failed on %s (%s); rescheduling', uuid, host, message)
    return True
