"""subnets: list, show, create, update, delete (IPv4 only)."""

from api import http
from api.network import attrs
from api.network import bulk
from api.network import query
from network import networks as db
from network import notify
from network import state as netstate

A = attrs.Attr

SPEC = {
    'name': attrs.NAME, 'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'network_id': A(attrs.uuid_str, put=False, required=True),
    'ip_version': A(attrs.ip_version, put=False, required=True),
    'cidr': A(attrs.nullable(attrs.string(64)), put=False),
    'prefixlen': A(attrs.integer(0, 128, nullable=True), put=False),
    'subnetpool_id': A(attrs.nullable(attrs.string(36)), put=False),
    'use_default_subnet_pool': A(attrs.boolean, put=False),
    'gateway_ip': A(attrs.nullable(attrs.string(64))),
    'allocation_pools': A(attrs.nullable(attrs.list_of())),
    'dns_nameservers': A(attrs.list_of(attrs.string(64))),
    'host_routes': A(attrs.list_of()),
    'enable_dhcp': A(attrs.boolean),
    'ipv6_ra_mode': A(attrs.nullable(attrs.one_of()), put=False),
    'ipv6_address_mode': A(attrs.nullable(attrs.one_of()), put=False),
    'service_types': A(attrs.list_of(attrs.one_of())),
    'segment_id': A(attrs.nullable(attrs.one_of())),
    'tags': A(attrs.tags, put=False),
}


def list_subnets():
    ctx = http.context()
    items = db.list_subnets(ctx, ids=query.arg_list('id'),
                            network_ids=query.arg_list('network_id'),
                            names=query.arg_list('name'))
    return query.listing('subnet', 'subnets', items)


def show_subnet(subnet_id):
    return http.reply(query.show('subnet', db.get_subnet(http.context(), subnet_id)))


def create_subnet():
    return bulk.create('subnet', 'subnets', _create_subnet, delete_subnet)


def _create_subnet(data):
    ctx = http.context()
    values = attrs.parse('subnet', SPEC, data=data)
    attrs.authorize('create_subnet', values.get('project_id') or ctx.project_id)
    if values.get('use_default_subnet_pool'):
        values['subnetpool_id'] = 'default'
    sub = db.create_subnet(ctx, values)
    notify.refresh_hosts(ctx, netstate.hosts_for_network(sub['network_id']))
    return sub


def update_subnet(subnet_id):
    ctx = http.context()
    values = attrs.parse('subnet', SPEC, put=True)
    current = db.get_subnet(ctx, subnet_id)
    attrs.authorize('update_subnet', current['project_id'])
    sub = db.update_subnet(ctx, subnet_id, values)
    if set(values) - {'name', 'description'}:
        notify.refresh_hosts(ctx, netstate.hosts_for_network(sub['network_id']))
    return http.reply(query.show('subnet', sub))


def delete_subnet(subnet_id):
    ctx = http.context()
    current = db.get_subnet(ctx, subnet_id)
    attrs.authorize('delete_subnet', current['project_id'])
    hosts = netstate.hosts_for_network(current['network_id'])
    db.delete_subnet(ctx, subnet_id)
    notify.refresh_hosts(ctx, hosts)
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/subnets', {'GET': list_subnets, 'POST': create_subnet}),
    ('/v2.0/subnets/<subnet_id>', {'GET': show_subnet, 'PUT': update_subnet,
                                   'DELETE': delete_subnet}),
]
