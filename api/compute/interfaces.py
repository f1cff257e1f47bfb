"""os-interface: a server's network ports, and hot-plugging more of them.

Attach creates (or takes) the port in the records, binds it to the server's
host, and asks the compute agent, by a bounded call, to plug the NIC into
the guest; a failed plug gives the port back. Detach unplugs first and then
releases the port (deleted if the server made it, unbound if the user did).
"""

import copy

import oslo_messaging as messaging
from oslo_log import log as logging

from api import http
from api.compute import schema_types as types
from api.compute import servers
from common import exception
from common.db import instances
from compute import rpcapi as compute_rpcapi
from network import notify
from network import ports
from network import state as netstate

LOG = logging.getLogger(__name__)
PLUG_TIMEOUT = 90

# As Nova's: the body may be {} (a port on a network chosen as at create),
# the tag comes with 2.49.
_create_v21 = {
    'type': 'object', 'additionalProperties': False,
    'properties': {'interfaceAttachment': {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'net_id': {'type': 'string', 'format': 'uuid'},
            'port_id': {'type': 'string', 'format': 'uuid'},
            'fixed_ips': {'type': 'array', 'minItems': 1, 'maxItems': 1, 'items': {
                'type': 'object', 'required': ['ip_address'], 'additionalProperties': False,
                'properties': {'ip_address': {'type': 'string'}}}}}}},
}
_create_v249 = copy.deepcopy(_create_v21)
_create_v249['properties']['interfaceAttachment']['properties']['tag'] = {
    'type': 'string', 'maxLength': 60}
_CREATE_SCHEMAS = [('2.1', _create_v21), ('2.49', _create_v249)]


def _view(port):
    return {'port_state': port.get('status'), 'port_id': port['id'],
            'net_id': port['network_id'], 'mac_addr': port['mac_address'],
            'fixed_ips': [{'subnet_id': f['subnet_id'], 'ip_address': f['ip_address']}
                          for f in port.get('fixed_ips') or []]}


def _instance(ctx, server_id, rule):
    return servers.get_instance(ctx, server_id, 'os-attach-interfaces:' + rule)


def list_interfaces(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'list')
    return http.reply({'interfaceAttachments': [
        _view(p) for p in ports.instance_ports(inst.uuid)]})


def _port_of(inst, port_id):
    for port in ports.instance_ports(inst.uuid):
        if port['id'] == port_id:
            return port
    raise exception.NotFound('Port %s is not attached' % port_id)


def show_interface(server_id, port_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'show')
    return http.reply({'interfaceAttachment': _view(_port_of(inst, port_id))})


def _check_placed(inst):
    if not inst.host:
        raise exception.Conflict("Cannot 'attach_interface' instance %s while it is not on "
                                 'a host yet.' % inst.uuid)


def _ask_agent(ctx, inst, what, vif, on_error=None):
    """Have the agent plug or unplug ``vif`` (a bounded call), recorded as
    an instance action event; a failure becomes a 503 (no answer) or a 409
    naming why, after ``on_error`` has undone what the API did."""
    event = 'compute_%s_interface' % what
    try:
        getattr(compute_rpcapi.ComputeAPI(), '%s_interface' % what)(
            ctx, inst.host, instances.to_dict(inst), vif, timeout=PLUG_TIMEOUT)
    except Exception as e:  # noqa: BLE001 - undo, then say why
        if on_error is not None:
            on_error()
        instances.event_finish(ctx.request_id, inst.uuid, event, result='Error',
                               details=str(e)[:500])
        if isinstance(e, messaging.MessagingTimeout):
            raise exception.ServiceUnavailable(
                reason='the compute host %s did not answer' % inst.host) from None
        raise exception.Conflict('Failed to %s network adapter device %s %s: %s'
                                 % (what, 'to' if what == 'attach' else 'from', inst.uuid,
                                    getattr(e, 'value', None) or e)) from None
    instances.event_finish(ctx.request_id, inst.uuid, event)


def create_interface(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'create')
    req = http.json_body(types.for_version(_CREATE_SCHEMAS)).get('interfaceAttachment', {})
    if req.get('fixed_ips') and not req.get('net_id'):
        raise exception.BadRequest('fixed_ips needs net_id.')
    if req.get('port_id') and req.get('net_id'):
        raise exception.BadRequest('Give either port_id or net_id, not both.')
    _check_placed(inst)
    inst = instances.begin_action(ctx, inst.uuid, 'attach_interface')
    fixed_ip = (req.get('fixed_ips') or [{}])[0].get('ip_address')
    port = ports.create_port_for_interface(ctx, inst.uuid, inst.project_id,
                                           net_id=req.get('net_id'),
                                           port_id=req.get('port_id'), fixed_ip=fixed_ip)
    instances.event_start(ctx.request_id, inst.uuid, 'compute_attach_interface')
    vif = next(v for v in ports.bind_instance_ports(inst.uuid, inst.host)
               if v['id'] == port['id'])

    def give_back():
        hosts = netstate.hosts_for_port_change([port['id']])
        ports.release_interface(inst.uuid, port['id'])
        notify.refresh_hosts(ctx, hosts | {inst.host})
    _ask_agent(ctx, inst, 'attach', vif, on_error=give_back)
    notify.refresh_hosts(ctx, netstate.hosts_for_port_change([port['id']]) - {inst.host})
    port = _port_of(inst, port['id'])
    return http.reply({'interfaceAttachment': _view(port)})


def delete_interface(server_id, port_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'delete')
    port = _port_of(inst, port_id)
    _check_placed(inst)
    inst = instances.begin_action(ctx, inst.uuid, 'detach_interface')
    instances.event_start(ctx.request_id, inst.uuid, 'compute_detach_interface')
    vif = next((v for v in ports.network_info(inst.uuid) if v['id'] == port['id']), None)
    if vif is not None:
        _ask_agent(ctx, inst, 'detach', vif)
    else:
        instances.event_finish(ctx.request_id, inst.uuid, 'compute_detach_interface')
    hosts = netstate.hosts_for_port_change([port['id']])
    ports.release_interface(inst.uuid, port['id'])
    notify.refresh_hosts(ctx, hosts | {inst.host})
    return http.reply(status=202)


ROUTES = [
    ('/v2.1/servers/<server_id>/os-interface', {'GET': list_interfaces,
                                                'POST': create_interface}),
    ('/v2.1/servers/<server_id>/os-interface/<port_id>', {'GET': show_interface,
                                                          'DELETE': delete_interface}),
]
