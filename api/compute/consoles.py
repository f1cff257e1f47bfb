"""Remote console URLs: POST /servers/{id}/remote-consoles (2.6+) and the
older os-get*Console server actions.

This cloud offers one console type, ``serial``: the URL points at
altostack-serialproxy with a short-lived token that names the guest's
serial socket on its compute host. Every other type Nova knows (noVNC,
SPICE, RDP, WebMKS) is answered with a 400 that says what is offered.
"""

import oslo_messaging as messaging

from api import http
from api import microversion
from api.compute import servers
from common import exception
from common import instance_states as st
from common import policy
from common.conf import CONF
from common.db import console_tokens
from common.db import instances
from compute import rpcapi as compute_rpcapi

# Nova's protocol -> the console types it carries.
PROTOCOL_TYPES = {'vnc': ('novnc', 'xvpvnc'), 'spice': ('spice-html5', 'spice-direct'),
                  'rdp': ('rdp-html5',), 'serial': ('serial',), 'mks': ('webmks',)}
ALL_TYPES = sorted({t for types in PROTOCOL_TYPES.values() for t in types})

REMOTE_CONSOLE_SCHEMA = {
    'type': 'object', 'required': ['remote_console'], 'additionalProperties': False,
    'properties': {'remote_console': {
        'type': 'object', 'required': ['protocol', 'type'], 'additionalProperties': False,
        'properties': {'protocol': {'type': 'string', 'enum': sorted(PROTOCOL_TYPES)},
                       'type': {'type': 'string', 'enum': ALL_TYPES}}}}}

# The legacy actions: action name -> the console types its 'type' may name.
LEGACY_ACTIONS = {'os-getVNCConsole': ('novnc', 'xvpvnc'),
                  'os-getSPICEConsole': ('spice-html5', 'spice-direct'),
                  'os-getRDPConsole': ('rdp-html5',),
                  'os-getSerialConsole': ('serial',)}
LEGACY_SCHEMAS = {
    name: {'type': 'object', 'required': ['type'], 'additionalProperties': False,
           'properties': {'type': {'type': 'string', 'enum': list(types)}}}
    for name, types in LEGACY_ACTIONS.items()}

RPC_TIMEOUT = 30


def available_types():
    return ['serial'] if CONF.serial_console.enabled else []


def _check_type(console_type):
    offered = available_types()
    if console_type not in offered:
        raise exception.BadRequest('Console type %s is not available on this cloud; '
                                   'available: %s' % (console_type,
                                                      ', '.join(offered) or 'none'))


def _url(token):
    base = CONF.serial_console.base_url
    sep = '&' if '?' in base else '?'
    return '%s%stoken=%s' % (base, sep, token)


def serial_console_url(ctx, inst):
    """Ask the instance's compute agent where its serial socket is, store a
    token for it and return the URL the proxy honours."""
    if not inst.host or not st.allowed('serial_console', inst.vm_state, inst.task_state):
        raise exception.Conflict('Instance %s is not ready: it is in vm_state %s%s; the '
                                 'serial console needs a running (ACTIVE) server.'
                                 % (inst.uuid, inst.vm_state,
                                    ' and task_state %s' % inst.task_state
                                    if inst.task_state else ''))
    try:
        target = compute_rpcapi.ComputeAPI().get_serial_console(
            ctx, inst.host, instances.to_dict(inst), timeout=RPC_TIMEOUT)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the compute host %s did not answer'
                                           % inst.host) from None
    token = console_tokens.issue(inst.uuid, 'serial', inst.host, target['host'],
                                 target['port'], CONF.serial_console.token_ttl)
    return _url(token)


def create_remote_console(server_id):
    if not microversion.at_least('2.6'):
        raise exception.NotFound('The resource could not be found.')
    ctx = http.context()
    body = http.json_body(REMOTE_CONSOLE_SCHEMA)['remote_console']
    protocol, console_type = body['protocol'], body['type']
    if console_type not in PROTOCOL_TYPES[protocol]:
        raise exception.BadRequest('Console type %s does not go with protocol %s.'
                                   % (console_type, protocol))
    if console_type == 'webmks' and not microversion.at_least('2.8'):
        raise exception.BadRequest('Console type webmks needs microversion 2.8 or later.')
    _check_type(console_type)
    inst = servers.get_instance(ctx, server_id)
    policy.authorize(ctx, 'os_compute_api:os-remote-consoles',
                     {'project_id': inst.project_id})
    url = serial_console_url(ctx, inst)
    return http.reply({'remote_console': {'protocol': protocol, 'type': console_type,
                                          'url': url}})


def legacy_action(ctx, inst, body):
    """os-getSerialConsole and the other os-get*Console actions (the type
    was checked against the action's schema already)."""
    console_type = body['type']
    _check_type(console_type)
    return http.reply({'console': {'type': console_type,
                                   'url': serial_console_url(ctx, inst)}})


ROUTES = [
    ('/v2.1/servers/<server_id>/remote-consoles', {'POST': create_remote_console}),
]
