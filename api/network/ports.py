"""ports: list (with Neutron's fixed_ips filter), show, create, update,
delete. Deleting a server's port is allowed, as in Neutron; a router's
leg is not (ServicePortInUse)."""

from api import http
from api.network import attrs
from api.network import bulk
from api.network import query
from network import exception as ne
from network import notify
from network import portcore as db
from network import routers
from network import state as netstate

A = attrs.Attr


def _dhcp_opts(attr, value):
    out = attrs.list_of()(attr, value)
    for opt in out:
        if not isinstance(opt, dict) or 'opt_name' not in opt or \
                set(opt) - {'opt_name', 'opt_value', 'ip_version'}:
            raise ne.HTTPBadRequest(msg="Invalid input for extra_dhcp_opts. Reason: '%s' is "
                                        'not a valid DHCP option.' % (opt,))
    return out


SPEC = {
    'name': attrs.NAME, 'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'network_id': A(attrs.uuid_str, put=False, required=True),
    'admin_state_up': A(attrs.boolean),
    'mac_address': A(attrs.string(32)),
    'fixed_ips': A(attrs.nullable(attrs.list_of())),
    'device_id': A(attrs.string(255)), 'device_owner': A(attrs.string(255)),
    'security_groups': A(attrs.nullable(attrs.list_of(attrs.uuid_str))),
    'port_security_enabled': A(attrs.boolean),
    'allowed_address_pairs': A(attrs.list_of()),
    'extra_dhcp_opts': A(_dhcp_opts),
    'binding:host_id': A(attrs.string(255)),
    'binding:profile': A(attrs.dict_any),
    'binding:vnic_type': A(attrs.one_of('normal')),
    'dns_name': A(attrs.string(255)),
    'tags': A(attrs.tags, put=False),
}
_ADMIN_ATTRS = ('binding:host_id', 'binding:profile')


def list_ports():
    ctx = http.context()
    items = db.list_ports(ctx, ids=query.arg_list('id'),
                          network_ids=query.arg_list('network_id'),
                          device_ids=query.arg_list('device_id'),
                          names=query.arg_list('name'),
                          device_owners=query.arg_list('device_owner'))
    return query.listing('port', 'ports', items, special=query.fixed_ips_filter)


def show_port(port_id):
    return http.reply(query.show('port', db.get_port(http.context(), port_id)))


def create_port():
    return bulk.create('port', 'ports', _create_port, delete_port)


def _create_port(data):
    ctx = http.context()
    values = attrs.parse('port', SPEC, data=data)
    project_id = values.get('project_id') or ctx.project_id
    attrs.authorize('create_port', project_id)
    attrs.authorize_attrs('port', {k: v for k, v in values.items() if v}, _ADMIN_ATTRS,
                          project_id)
    if values.get('fixed_ips') is None:
        values.pop('fixed_ips', None)
    port = db.create_port(ctx, values)
    if port['binding:host_id']:
        notify.refresh_hosts(ctx, netstate.hosts_for_port_change([port['id']]))
    return port


def update_port(port_id):
    ctx = http.context()
    values = attrs.parse('port', SPEC, put=True)
    current = db.get_port(ctx, port_id)
    attrs.authorize('update_port', current['project_id'])
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    attrs.authorize_attrs('port', changed, _ADMIN_ATTRS + ('mac_address',),
                          current['project_id'], put=True)
    hosts = netstate.hosts_for_port_change([port_id])
    port = db.update_port(ctx, port_id, values)
    if set(changed) - {'name', 'description', 'tags', 'binding:profile'}:
        notify.refresh_hosts(ctx, hosts | netstate.hosts_for_port_change([port_id]))
    return http.reply(query.show('port', port))


def delete_port(port_id):
    ctx = http.context()
    current = db.get_port(ctx, port_id)
    attrs.authorize('delete_port', current['project_id'])
    routers.check_port_delete(current)
    hosts = netstate.hosts_for_port_change([port_id])
    db.delete_port(ctx, port_id)
    notify.refresh_hosts(ctx, hosts)
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/ports', {'GET': list_ports, 'POST': create_port}),
    ('/v2.0/ports/<port_id>', {'GET': show_port, 'PUT': update_port, 'DELETE': delete_port}),
]
