"""Server actions that change how a server lives, with Nova's semantics:
lock/unlock, pause/unpause, suspend/resume and rebuild.

server_actions dispatches to HANDLERS after validating with SCHEMAS and
authorizing os_compute_api:servers:action:<name>. Every action but lock and
unlock goes through the state table (common.instance_states), which also
keeps a locked server from anyone but an admin; the compute agent does the
work and reports the state it ends in.
"""

import base64
import binascii
import copy
import types as pytypes
import uuid as uuid_mod

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log as logging

from api import http
from api import microversion
from api.compute import images
from api.compute import schema_types as types
from api.compute import server_views as views
from api.compute import servers
from common import exception
from common import instance_states as st
from common import policy
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import rpcapi as compute_rpcapi
from network import ports

LOG = logging.getLogger(__name__)

_rebuild = {
    'type': 'object', 'required': ['imageRef'], 'additionalProperties': False,
    'properties': {
        'imageRef': {'type': 'string', 'minLength': 1},
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'adminPass': {'type': 'string'},
        'metadata': types.METADATA,
        'preserve_ephemeral': types.BOOLEAN,
        'accessIPv4': types.ACCESS_IPV4, 'accessIPv6': types.ACCESS_IPV6,
        'OS-DCF:diskConfig': {'enum': ['AUTO', 'MANUAL']},
        # Nova's file injection until 2.57; accepted and not injected.
        'personality': {'type': 'array', 'items': {
            'type': 'object', 'additionalProperties': False,
            'properties': {'path': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                           'contents': {'type': 'string'}}}},
    },
}


def _rebuild_since(base, **added):
    schema = copy.deepcopy(base)
    for key, value in added.items():
        if value is None:
            del schema['properties'][key]
        else:
            schema['properties'][key] = value
    return schema


_rebuild_219 = _rebuild_since(_rebuild, description={'type': ['string', 'null'],
                                                     'maxLength': 255})
_rebuild_254 = _rebuild_since(_rebuild_219, key_name={
    'type': ['string', 'null'], 'minLength': 1, 'maxLength': 255})
_rebuild_257 = _rebuild_since(_rebuild_254, personality=None, user_data={
    'type': ['string', 'null'], 'maxLength': 65535})

SCHEMAS = {
    # Nova takes any value for these (lock's locked_reason comes with 2.73,
    # beyond what we serve).
    'lock': types.ANY, 'unlock': types.ANY,
    'pause': types.ANY, 'unpause': types.ANY, 'suspend': types.ANY, 'resume': types.ANY,
    'rebuild': [('2.1', _rebuild), ('2.19', _rebuild_219), ('2.54', _rebuild_254),
                ('2.57', _rebuild_257)],
    'os-resetState': {'type': 'object', 'required': ['state'], 'additionalProperties': False,
                      'properties': {'state': {'enum': ['active', 'error']}}},
}


def _begin_and_cast(ctx, inst, action, method, values=None, **kwargs):
    """Move the server into the action's task state, record the action and
    cast to its host; if the cast cannot leave, undo the task state."""
    if not inst.host:
        raise instances.InstanceInvalidState(action, inst.uuid, inst.vm_state,
                                             inst.task_state)
    before = {k: getattr(inst, k) for k in (values or {})}
    inst = instances.begin_action(ctx, inst.uuid, action, values=values)
    try:
        getattr(compute_rpcapi.ComputeAPI(), method)(ctx, inst.host, instances.to_dict(inst),
                                                     **kwargs)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.error('Could not ask %s to %s %s: %s', inst.host, action, inst.uuid, e)
        instances.update(inst.uuid, dict(before, task_state=None),
                         task_states=[st.ACTIONS[action][2]])
        instances.event_finish(ctx.request_id, inst.uuid, 'compute_%s_instance' % action,
                               result='Error', details='The compute service could not be '
                               'reached.')
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % inst.host) from None
    return inst


def _simple(action):
    def handler(ctx, inst, _body):
        _begin_and_cast(ctx, inst, action, '%s_instance' % action)
    handler.__name__ = '_' + action
    return handler


def _lock(ctx, inst, _body):
    instances.lock(ctx, inst.uuid)


def _unlock(ctx, inst, _body):
    # Whoever locked it ('owner': its project, 'admin': anyone else) may
    # unlock it; the other side needs the override (admins only by default).
    expected = 'owner' if ctx.project_id == inst.project_id else 'admin'
    if inst.locked and inst.locked_by and inst.locked_by != expected:
        policy.authorize(ctx, 'os_compute_api:servers:action:unlock:unlock_override',
                         {'project_id': inst.project_id})
    instances.unlock(ctx, inst.uuid)


def _rebuild_values(ctx, inst, body):
    image_ref = body['imageRef'].rsplit('/', 1)[-1]
    image = images.get(ctx, image_ref)
    fl = inst.flavor or {}
    servers._check_image_fits(image, pytypes.SimpleNamespace(
        root_gb=fl.get('root_gb') or 0, memory_mb=fl.get('memory_mb') or 0))
    values = {'image_ref': image_ref}
    if 'name' in body:
        values['display_name'] = body['name']
    if 'metadata' in body:
        servers.check_metadata_quota(inst.project_id, body['metadata'])
        values['meta'] = dict(body['metadata'])
    if 'description' in body:
        values['description'] = body['description']
    values.update(servers.access_ips(body))
    if 'key_name' in body:
        values['key_name'] = values['key_data'] = None
        if body['key_name'] is not None:
            with db_api.reader() as s:
                kp = s.scalars(sa.select(cm.KeyPair).where(
                    cm.KeyPair.user_id == ctx.user_id,
                    cm.KeyPair.name == body['key_name'])).first()
            if kp is None:
                raise exception.BadRequest('Invalid key_name provided.')
            values['key_name'], values['key_data'] = kp.name, kp.public_key
    if 'user_data' in body:
        if body['user_data'] is not None:
            try:
                base64.b64decode(body['user_data'], validate=True)
            except (binascii.Error, ValueError):
                raise exception.BadRequest('User data needs to be valid base 64.') from None
        values['user_data'] = body['user_data']
    return values


def _rebuild(ctx, inst, body):
    """The root disk is made anew from the image; ports, volumes, name and
    address stay. A stopped server stays stopped (Nova's behaviour)."""
    if not st.allowed('rebuild', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState('rebuild', inst.uuid, inst.vm_state,
                                             inst.task_state)
    values = _rebuild_values(ctx, inst, body)
    orig_image_ref = inst.image_ref
    inst = _begin_and_cast(ctx, inst, 'rebuild', 'rebuild_instance', values=values,
                           image_ref=values['image_ref'], orig_image_ref=orig_image_ref,
                           network_info=ports.network_info(inst.uuid))
    server = views.summary(inst, ctx)
    if microversion.at_least('2.54'):
        server['key_name'] = inst.key_name
    if microversion.at_least('2.57'):
        server['user_data'] = inst.user_data
    # As on create: the password is not set in the guest (no agent does it).
    server['adminPass'] = body.get('adminPass') or uuid_mod.uuid4().hex[:12]
    return http.reply({'server': server}, status=202)


def _reset_state(ctx, inst, body):
    """os-resetState (an admin's `server set --state`): the server's
    vm_state as given, no task under way, whatever it was doing; nothing is
    asked of its host. The way out for a server whose host is gone for good
    (then evacuate) or whose agent lost track of it."""
    state = st.ACTIVE if body['state'] == 'active' else st.ERROR
    instances.update(inst.uuid, {'vm_state': state, 'task_state': None},
                     action='reset state')
    instances.record_action(ctx, inst.uuid, 'resetState',
                            message='vm_state %s, task_state was %s' % (state, inst.task_state))
    LOG.info('Reset state of %s to %s (was %s/%s)', inst.uuid, state, inst.vm_state,
             inst.task_state)


HANDLERS = {
    'os-resetState': _reset_state,
    'lock': _lock, 'unlock': _unlock,
    'pause': _simple('pause'), 'unpause': _simple('unpause'),
    'suspend': _simple('suspend'), 'resume': _simple('resume'),
    'rebuild': _rebuild,
}
