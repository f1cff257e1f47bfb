"""POST /servers/{id}/action and the instance action log."""

import flask
import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_utils import timeutils

from api import http
from api import microversion
from api.compute import consoles
from api.compute import evacuate
from api.compute import lifecycle_actions
from api.compute import live_migrate
from api.compute import migrate
from api.compute import paging
from api.compute import resize
from api.compute import schema_types as types
from api.compute import servers
from api.compute import snapshots
from common import exception
from common import instance_states as st
from common import policy
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import rpcapi as compute_rpcapi
from network import notify
from network import ports
from network import state as netstate

_T = '%Y-%m-%dT%H:%M:%S.%f'

# Each action's body, as Nova validates it (schema_types.for_version picks
# by microversion). os-stop and os-start take any value, as in Nova.
_ACTION_SCHEMAS = {
    'os-stop': types.ANY,
    'os-start': types.ANY,
    'reboot': {'type': 'object', 'required': ['type'], 'additionalProperties': False,
               'properties': {'type': {'type': 'string', 'enum': [
                   'HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']}}},
    'os-getConsoleOutput': {'type': 'object', 'additionalProperties': False,
                            'properties': {'length': {'type': ['integer', 'string', 'null'],
                                                      'pattern': '^-?[0-9]+$',
                                                      'minimum': -1}}},
    'addSecurityGroup': {'type': 'object', 'required': ['name'],
                         'additionalProperties': False,
                         'properties': {'name': {'type': 'string', 'minLength': 1}}},
}
_ACTION_SCHEMAS['removeSecurityGroup'] = _ACTION_SCHEMAS['addSecurityGroup']
_ACTION_SCHEMAS.update(consoles.LEGACY_SCHEMAS)
_ACTION_SCHEMAS.update(lifecycle_actions.SCHEMAS)
_ACTION_SCHEMAS[snapshots.ACTION] = snapshots.SCHEMA
_ACTION_SCHEMAS.update(resize.SCHEMAS)
_ACTION_SCHEMAS.update(migrate.SCHEMAS)
_ACTION_SCHEMAS[evacuate.ACTION] = evacuate.SCHEMA
_ACTION_SCHEMAS.update(live_migrate.SCHEMAS)
_NOT_YET = ('shelve', 'unshelve', 'rescue', 'unrescue')


def _cast(ctx, inst, method, **kwargs):
    getattr(compute_rpcapi.ComputeAPI(), method)(ctx, inst.host, instances.to_dict(inst),
                                                 **kwargs)


def _stop(ctx, inst, _body):
    inst = instances.begin_action(ctx, inst.uuid, 'stop')
    _cast(ctx, inst, 'stop_instance')


def _start(ctx, inst, _body):
    inst = instances.begin_action(ctx, inst.uuid, 'start')
    _cast(ctx, inst, 'start_instance')


def _reboot(ctx, inst, body):
    kind = body['type'].upper()
    inst = instances.begin_action(ctx, inst.uuid, 'reboot_hard' if kind == 'HARD' else 'reboot')
    _cast(ctx, inst, 'reboot_instance', reboot_type=kind)


def _console_output(ctx, inst, body):
    length = (body or {}).get('length')
    try:
        length = int(length) if length is not None else None
    except ValueError:
        raise exception.BadRequest('length must be an integer.') from None
    if length is not None and length < -1:
        raise exception.BadRequest('length must be -1 or more.')
    if not inst.host or inst.vm_state == st.BUILDING and inst.task_state == st.SCHEDULING:
        raise exception.Conflict('The console is not available yet: the server is still '
                                 'being built.')
    try:
        out = compute_rpcapi.ComputeAPI().get_console_output(
            ctx, inst.host, instances.to_dict(inst), None if length == -1 else length)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the compute host %s did not answer'
                                           % inst.host) from None
    return http.reply({'output': out})


def _security_group(change):
    """addSecurityGroup / removeSecurityGroup: Nova changes the groups of
    the server's ports, then the hosts that enforce them resync."""
    def handler(ctx, inst, body):
        hosts = netstate.hosts_for_instance(inst.uuid)
        change(inst.uuid, inst.project_id, body['name'])
        notify.refresh_hosts(ctx, hosts | netstate.hosts_for_instance(inst.uuid))
    return handler


_HANDLERS = {'os-stop': _stop, 'os-start': _start, 'reboot': _reboot,
             'os-getConsoleOutput': _console_output,
             'addSecurityGroup': _security_group(ports.add_security_group),
             'removeSecurityGroup': _security_group(ports.remove_security_group)}
_HANDLERS.update({name: consoles.legacy_action(name) for name in consoles.LEGACY_ACTIONS})
_HANDLERS.update(lifecycle_actions.HANDLERS)
_HANDLERS[snapshots.ACTION] = snapshots.create_image
_HANDLERS.update(resize.HANDLERS)
_HANDLERS.update(migrate.HANDLERS)
_HANDLERS[evacuate.ACTION] = evacuate.evacuate
_HANDLERS.update(live_migrate.HANDLERS)


def server_action(server_id):
    ctx = http.context()
    body = http.json_body()
    if len(body) != 1:
        raise exception.BadRequest('An action body names exactly one action.')
    (name, args), = body.items()
    if name in _NOT_YET:
        raise exception.BadRequest('The %s action is not supported yet.' % name)
    if name not in _HANDLERS:
        raise exception.BadRequest('There is no such action: %s' % name)
    schema = types.for_version(_ACTION_SCHEMAS[name])
    if schema is not None:
        http.validate(args, schema)
    inst = servers.get_instance(ctx, server_id)
    policy.authorize(ctx, 'os_compute_api:servers:action:%s' % name,
                     {'project_id': inst.project_id})
    result = _HANDLERS[name](ctx, inst, args)
    return result if result is not None else http.reply(status=202)


def _action_view(a):
    d = {'action': a.action, 'instance_uuid': a.instance_uuid, 'request_id': a.request_id,
         'user_id': a.user_id, 'project_id': a.project_id,
         'start_time': a.start_time.strftime(_T), 'message': a.message}
    if microversion.at_least('2.58'):
        d['updated_at'] = (a.updated_at or a.start_time).strftime(_T)
    return d


def list_actions(server_id):
    """Newest first; from 2.58 with changes-since, limit and marker (a
    request id), as Nova."""
    ctx = http.context()
    inst = _instance_incl_deleted(ctx, server_id)
    A = cm.InstanceAction
    q = sa.select(A).where(A.instance_uuid == inst.uuid)
    paged = microversion.at_least('2.58')
    since = flask.request.args.get('changes-since') if paged else None
    if since:
        try:
            since = timeutils.parse_isotime(since).replace(tzinfo=None)
        except ValueError:
            raise exception.BadRequest('Invalid changes-since value.') from None
        q = q.where(sa.func.coalesce(A.updated_at, A.start_time) >= since)
    with db_api.reader() as s:
        rows = list(s.scalars(q.order_by(A.start_time.desc(), A.id.desc())))
    if paged:
        rows = paging.page(rows, lambda a: a.request_id)
    return http.reply({'instanceActions': [_action_view(a) for a in rows]})


def show_action(server_id, request_id):
    ctx = http.context()
    inst = _instance_incl_deleted(ctx, server_id)
    with db_api.reader() as s:
        action = s.scalars(sa.select(cm.InstanceAction).where(
            cm.InstanceAction.instance_uuid == inst.uuid,
            cm.InstanceAction.request_id == request_id)).first()
        if action is None:
            raise exception.NotFound('Action %s not found' % request_id)
        events = list(s.scalars(sa.select(cm.InstanceActionEvent).where(
            cm.InstanceActionEvent.action_id == action.id).order_by(
            cm.InstanceActionEvent.start_time)))
    out = _action_view(action)
    admin = ctx.is_admin_role
    if not admin and not microversion.at_least('2.51'):
        return http.reply({'instanceAction': out})  # events were admins' only
    out['events'] = []
    for e in events:
        ev = {'event': e.event, 'start_time': e.start_time.strftime(_T),
              'finish_time': e.finish_time.strftime(_T) if e.finish_time else None,
              'result': e.result}
        if admin:
            ev['traceback'] = e.traceback
        # (host and hostId come with 2.62, details with 2.84: beyond our max)
        out['events'].append(ev)
    return http.reply({'instanceAction': out})


def _instance_incl_deleted(ctx, server_id):
    try:
        return instances.get(server_id, None if ctx.is_admin_role else ctx.project_id,
                             deleted=microversion.at_least('2.21'))
    except instances.InstanceNotFound:
        raise exception.NotFound('Instance %s could not be found.' % server_id) from None


ROUTES = [
    ('/v2.1/servers/<server_id>/action', {'POST': server_action}),
    ('/v2.1/servers/<server_id>/os-instance-actions', {'GET': list_actions}),
    ('/v2.1/servers/<server_id>/os-instance-actions/<request_id>', {'GET': show_action}),
]
