"""floatingips: list, show, create, update (associate with a port or
disassociate), delete. The CLI looks a floating IP up by address with
GET /floatingips/<address>, which must be a 404."""

from api import http
from api.network import attrs
from api.network import dns
from api.network import query
from network import floatingips as db
from network import notify
from network import state as netstate

A = attrs.Attr

SPEC = {
    'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'floating_network_id': A(attrs.uuid_str, put=False, required=True),
    'floating_ip_address': A(attrs.nullable(attrs.string(64)), put=False),
    'subnet_id': A(attrs.nullable(attrs.uuid_str), put=False),
    'port_id': A(attrs.nullable(attrs.uuid_str)),
    'fixed_ip_address': A(attrs.nullable(attrs.string(64))),
    'tags': A(attrs.tags, put=False),
    'dns_name': A(dns.fip_name, put=False), 'dns_domain': A(dns.domain, put=False),
}


def list_fips():
    ctx = http.context()
    items = db.list_fips(ctx, ids=query.arg_list('id'),
                         addresses=query.arg_list('floating_ip_address'),
                         port_ids=query.arg_list('port_id'),
                         network_ids=query.arg_list('floating_network_id'))
    return query.listing('floatingip', 'floatingips', items)


def show_fip(fip_id):
    return http.reply(query.show('floatingip', db.get_fip(http.context(), fip_id)))


def create_fip():
    ctx = http.context()
    values = attrs.parse('floatingip', SPEC)
    dns.check_fip(values)
    project_id = values.get('project_id') or ctx.project_id
    attrs.authorize('create_floatingip', project_id)
    if values.get('floating_ip_address'):
        attrs.authorize('create_floatingip:floating_ip_address', project_id)
    fip = db.create_fip(ctx, values)
    if fip['port_id']:
        notify.refresh_hosts(ctx, netstate.hosts_for_ports([fip['port_id']]))
    return http.reply(query.show('floatingip', fip), status=201)


def update_fip(fip_id):
    ctx = http.context()
    values = attrs.parse('floatingip', SPEC, put=True)
    attrs.authorize('update_floatingip', db.get_fip(ctx, fip_id)['project_id'])
    fip, before = db.update_fip(ctx, fip_id, values)
    if 'port_id' in values or 'fixed_ip_address' in values:
        notify.refresh_hosts(ctx, netstate.hosts_for_ports([before, fip['port_id']]))
    return http.reply(query.show('floatingip', fip))


def delete_fip(fip_id):
    ctx = http.context()
    attrs.authorize('delete_floatingip', db.get_fip(ctx, fip_id)['project_id'])
    port_id = db.delete_fip(ctx, fip_id)
    notify.refresh_hosts(ctx, netstate.hosts_for_ports([port_id]))
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/floatingips', {'GET': list_fips, 'POST': create_fip}),
    ('/v2.0/floatingips/<fip_id>', {'GET': show_fip, 'PUT': update_fip, 'DELETE': delete_fip}),
]
