"""Remote console URLs: POST /servers/{id}/remote-consoles (2.6+) and the
older os-get*Console server actions.

This cloud offers two console types, each a URL with a short-lived token
that names where the compute host exposes the guest's console:

* ``serial``: ``[serial_console] base_url?token=...``, a websocket of
  altostack-serialproxy to the guest's serial socket;
* ``novnc`` (protocol vnc): ``[vnc] novncproxy_base_url?path=%3Ftoken%3D...``
  as in Nova, the noVNC page that altostack-novncproxy serves, whose
  websocket it connects to the guest's VNC display.

Every other type Nova knows (xvpvnc, SPICE, RDP, WebMKS), or one switched
off ([serial_console] / [vnc] enabled), is answered with Nova's 400 for a
console type the hosts do not offer ("Unavailable console type xvpvnc."),
naming the types offered.
"""

import urllib.parse

import oslo_messaging as messaging

from api import http
from api import microversion
from api.compute import schema_types
from api.compute import servers
from common import exception
from common import instance_states as st
from common import policy
from common.conf import CONF
from common.db import console_tokens
from common.db import instances
from compute import rpcapi as compute_rpcapi

# Nova's protocol -> the console types it carries (up to our max version).
PROTOCOL_TYPES = {'vnc': ('novnc', 'xvpvnc'), 'spice': ('spice-html5',),
                  'rdp': ('rdp-html5',), 'serial': ('serial',), 'mks': ('webmks',)}


def _remote_console_schema(protocols):
    types = sorted({t for p in protocols for t in PROTOCOL_TYPES[p]})
    return {
        'type': 'object', 'required': ['remote_console'], 'additionalProperties': False,
        'properties': {'remote_console': {
            'type': 'object', 'required': ['protocol', 'type'],
            'additionalProperties': False,
            'properties': {'protocol': {'type': 'string', 'enum': sorted(protocols)},
                           'type': {'type': 'string', 'enum': types}}}}}


# mks (webmks) comes with 2.8.
REMOTE_CONSOLE_SCHEMAS = [
    ('2.6', _remote_console_schema(('vnc', 'spice', 'serial', 'rdp'))),
    ('2.8', _remote_console_schema(('vnc', 'spice', 'serial', 'rdp', 'mks')))]

# The legacy actions (2.1 to 2.5): action name -> the types 'type' may name.
# os-getRDPConsole is Nova's too, always a 400 since RDP went with Hyper-V.
LEGACY_ACTIONS = {'os-getVNCConsole': ('novnc', 'xvpvnc'),
                  'os-getSPICEConsole': ('spice-html5',),
                  'os-getRDPConsole': None,
                  'os-getSerialConsole': ('serial',)}
LEGACY_SCHEMAS = {
    name: [('2.1', {'type': 'object', 'required': ['type'], 'additionalProperties': False,
                    'properties': {'type': {'type': 'string', 'enum': list(types)}}}
            if types else {}),
           ('2.6', None)]
    for name, types in LEGACY_ACTIONS.items()}

RPC_TIMEOUT = 30


def _serial_url(token):
    base = CONF.serial_console.base_url
    sep = '&' if '?' in base else '?'
    return '%s%stoken=%s' % (base, sep, token)


def _novnc_url(token):
    """Nova's noVNC URL: the page, told by ``path`` where its websocket is
    (the proxy's own host and port, ``?token=...``)."""
    base = CONF.vnc.novncproxy_base_url
    sep = '&' if '?' in base else '?'
    return '%s%s%s' % (base, sep, urllib.parse.urlencode({'path': '?token=%s' % token}))


class _Kind:
    """One console type offered here: its action in the state table, the
    compute RPC that finds it, its option group (enabled, token_ttl), what
    errors call it and how its URL is made."""

    def __init__(self, action, rpc, conf_group, words, url):
        self.action = action
        self.rpc = rpc
        self.conf_group = conf_group
        self.words = words
        self.url = url

    @property
    def conf(self):
        return getattr(CONF, self.conf_group)


KINDS = {
    'novnc': _Kind('vnc_console', 'get_vnc_console', 'vnc', 'the VNC console', _novnc_url),
    'serial': _Kind('serial_console', 'get_serial_console', 'serial_console',
                    'the serial console', _serial_url),
}


def available_types():
    return [name for name, kind in sorted(KINDS.items()) if kind.conf.enabled]


def _check_type(console_type):
    """Nova's 400 for a console type its hosts do not offer (what it says
    when VNC or SPICE is disabled), naming what is offered here."""
    offered = available_types()
    if console_type not in offered:
        raise exception.BadRequest('Unavailable console type %s. Console types '
                                   'available: %s.' % (console_type,
                                                       ', '.join(offered) or 'none'))


def console_url(ctx, inst, console_type):
    """Ask the instance's compute agent where its console of
    ``console_type`` (serial, novnc) is, store a token for it and return
    the URL the proxy honours."""
    kind = KINDS[console_type]
    if not inst.host or not st.allowed(kind.action, inst.vm_state, inst.task_state):
        raise exception.Conflict('Instance %s is not ready: it is in vm_state %s%s; %s '
                                 'needs a running (ACTIVE) server.'
                                 % (inst.uuid, inst.vm_state,
                                    ' and task_state %s' % inst.task_state
                                    if inst.task_state else '', kind.words))
    try:
        target = getattr(compute_rpcapi.ComputeAPI(), kind.rpc)(
            ctx, inst.host, instances.to_dict(inst), timeout=RPC_TIMEOUT)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the compute host %s did not answer'
                                           % inst.host) from None
    token = console_tokens.issue(inst.uuid, console_type, inst.host, target['host'],
                                 target['port'], kind.conf.token_ttl)
    return kind.url(token)


def create_remote_console(server_id):
    if not microversion.at_least('2.6'):
        raise exception.NotFound('The resource could not be found.')
    ctx = http.context()
    body = http.json_body(schema_types.for_version(REMOTE_CONSOLE_SCHEMAS))
    protocol, console_type = body['remote_console']['protocol'], body['remote_console']['type']
    inst = servers.get_instance(ctx, server_id)
    policy.authorize(ctx, 'os_compute_api:os-remote-consoles',
                     {'project_id': inst.project_id})
    if protocol == 'rdp':
        raise exception.BadRequest('Unavailable console type rdp.')
    if console_type not in PROTOCOL_TYPES[protocol]:
        raise exception.BadRequest('Invalid console type %s for protocol %s.'
                                   % (console_type, protocol))
    _check_type(console_type)
    url = console_url(ctx, inst, console_type)
    return http.reply({'remote_console': {'protocol': protocol, 'type': console_type,
                                          'url': url}})


def legacy_action(action):
    """The handler of os-getVNCConsole, os-getSerialConsole or another
    os-get*Console action (the type was checked against the action's schema
    already); these actions are gone from 2.6 on (remote-consoles), a 404
    as in Nova."""
    def handler(ctx, inst, body):
        if microversion.at_least('2.6'):
            raise exception.NotFound('The resource could not be found.')
        return _legacy(ctx, inst, body, action)
    return handler


def _legacy(ctx, inst, body, action):
    if not LEGACY_ACTIONS[action]:
        raise exception.BadRequest('Unavailable console type rdp-html5: RDP consoles went '
                                   'with the Hyper-V driver.')
    console_type = body['type']
    _check_type(console_type)
    return http.reply({'console': {'type': console_type,
                                   'url': console_url(ctx, inst, console_type)}})


ROUTES = [
    ('/v2.1/servers/<server_id>/remote-consoles', {'POST': create_remote_console}),
]
