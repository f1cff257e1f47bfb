"""networks: list, show, create, update, delete."""

from api import http
from api.network import attrs
from api.network import bulk
from api.network import dns
from api.network import query
from network import networks as db
from network import notify
from network import state as netstate

A = attrs.Attr

SPEC = {
    'name': attrs.NAME, 'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'admin_state_up': A(attrs.boolean), 'shared': A(attrs.boolean),
    'router:external': A(attrs.boolean), 'is_default': A(attrs.boolean),
    'port_security_enabled': A(attrs.boolean), 'mtu': A(attrs.integer(68, 65535)),
    'availability_zone_hints': A(attrs.list_of(attrs.string()), put=False),
    'provider:network_type': A(attrs.string(16), put=False),
    'provider:physical_network': A(attrs.nullable(attrs.string(64)), put=False),
    'provider:segmentation_id': A(attrs.integer(nullable=True), put=False),
    'tags': A(attrs.tags, put=False),
    'dns_domain': A(dns.domain),
}
# Attributes only an admin sets to anything but their default.
_ADMIN_ATTRS = ('shared', 'router:external', 'is_default')
_PROVIDER = ('provider:network_type', 'provider:physical_network', 'provider:segmentation_id')


def list_networks():
    ctx = http.context()
    items = db.list_networks(ctx, ids=query.arg_list('id'), names=query.arg_list('name'))
    return query.listing('network', 'networks', items)


def show_network(net_id):
    return http.reply(query.show('network', db.get_network(http.context(), net_id)))


def create_network():
    return bulk.create('network', 'networks', _create_network, delete_network)


def _create_network(data):
    ctx = http.context()
    values = attrs.parse('network', SPEC, data=data)
    project_id = values.get('project_id') or ctx.project_id
    attrs.authorize('create_network', project_id)
    attrs.authorize_attrs('network', {k: v for k, v in values.items() if v}, _ADMIN_ATTRS,
                          project_id)
    if any(values.get(k) is not None for k in _PROVIDER):
        attrs.authorize('create_network:provider', project_id)
    net = db.create_network(ctx, values)
    if net['router:external']:  # every host carries the external network
        notify.refresh_hosts(ctx, netstate.hosts_for_network(net['id']))
    return net


def update_network(net_id):
    ctx = http.context()
    values = attrs.parse('network', SPEC, put=True)
    current = db.get_network(ctx, net_id)
    attrs.authorize('update_network', current['project_id'])
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    attrs.authorize_attrs('network', changed, _ADMIN_ATTRS, current['project_id'], put=True)
    net = db.update_network(ctx, net_id, values)
    if changed:
        notify.refresh_hosts(ctx, netstate.hosts_for_network(net_id))
    return http.reply(query.show('network', net))


def delete_network(net_id):
    ctx = http.context()
    current = db.get_network(ctx, net_id)
    attrs.authorize('delete_network', current['project_id'])
    hosts = netstate.hosts_for_network(net_id)
    notify.refresh_hosts(ctx, hosts | db.delete_network(ctx, net_id))
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/networks', {'GET': list_networks, 'POST': create_network}),
    ('/v2.0/networks/<net_id>', {'GET': show_network, 'PUT': update_network,
                                 'DELETE': delete_network}),
]
