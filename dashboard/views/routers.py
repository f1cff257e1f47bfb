"""Routers: the list, a router's page (its interfaces and its external
gateway), create (with a gateway or not), set and clear the external
gateway, add and remove an interface by subnet, delete.

The list makes one call per kind of resource: the page of routers, their
interface ports in one call, and the names of the subnets and gateway
networks in one call each.
"""

import flask

from dashboard import rest
from dashboard.views import neutron
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('routers', __name__, url_prefix='/routers')
NAV = [('routers.index', 'Routers')]


def _interfaces(router_ids):
    """{router id: [interface port]} of these routers, in one call."""
    out = {}
    if router_ids:
        for port in neutron.listing('ports', device_id=sorted(router_ids),
                                    device_owner=neutron.INTERFACE_OWNER,
                                    fields=['id', 'device_id', 'network_id', 'fixed_ips',
                                            'status']):
            out.setdefault(port['device_id'], []).append(port)
    return out


def _gateway_network(router):
    return ((router.get('external_gateway_info') or {}).get('network_id')) or None


def _external_networks():
    return neutron.listing('networks', **{'router:external': 'True',
                                          'fields': ['id', 'name']})


@bp.route('/')
@signed_in
def index():
    limit, marker = paging()
    routers, next_marker = neutron.page('routers', limit, marker)
    interfaces = _interfaces([r['id'] for r in routers])
    subnets = neutron.names_of('subnets', [f['subnet_id'] for ports in interfaces.values()
                                           for p in ports for f in p['fixed_ips']], 'cidr')
    nets = neutron.names_of('networks', [_gateway_network(r) for r in routers])
    for router in routers:
        router['interface_ports'] = interfaces.get(router['id'], [])
    return flask.render_template('network/routers.html', routers=routers, subnets=subnets,
                                 networks=nets, limit=limit, marker=marker,
                                 next_marker=next_marker)


@bp.route('/<router_id>')
@signed_in
def detail(router_id):
    router = rest.get('network', '/routers/%s' % router_id)['router']
    ports = _interfaces([router_id]).get(router_id, [])
    nets = neutron.by_id(neutron.listing('networks', fields=['id', 'name', 'router:external']))
    externals = [n for n in nets.values() if n.get('router:external')]
    subnets = neutron.listing('subnets', fields=['id', 'name', 'cidr', 'network_id',
                                                 'gateway_ip'])
    attached = {f['subnet_id'] for p in ports for f in p['fixed_ips']}
    # Subnets an interface may go on: not yet on it, not on an external network.
    candidates = [s for s in subnets if s['id'] not in attached and
                  not (nets.get(s['network_id']) or {}).get('router:external')]
    return flask.render_template('network/router.html', router=router, ports=ports,
                                 externals=externals, networks=nets,
                                 subnets=neutron.by_id(subnets), candidates=candidates,
                                 gateway_network=_gateway_network(router))


@bp.route('/new', methods=['GET', 'POST'])
@signed_in
def create():
    if flask.request.method == 'GET':
        return flask.render_template('network/router_form.html',
                                     externals=_external_networks())
    values = {'name': rest.form('name'),
              'admin_state_up': rest.form('admin_state', 'enable') != 'disable'}
    if not values['name']:
        rest.refuse('Give the router a name.')
    if rest.form('external_network'):
        values['external_gateway_info'] = {'network_id': rest.form('external_network')}
    router = rest.call('network', 'POST', '/routers', {'router': values})['router']
    return rest.done('Router %s created.' % router['name'],
                     flask.url_for('.detail', router_id=router['id']))


def _router_url(router_id):
    return flask.url_for('.detail', router_id=router_id)


@bp.route('/<router_id>/gateway', methods=['POST'])
@signed_in
def set_gateway(router_id):
    network_id = rest.form('external_network')
    if not network_id:
        rest.refuse('Choose the external network of the gateway.')
    router = rest.call('network', 'PUT', '/routers/%s' % router_id, {'router': {
        'external_gateway_info': {'network_id': network_id}}})['router']
    ips = [f['ip_address'] for f in
           (router.get('external_gateway_info') or {}).get('external_fixed_ips') or ()]
    return rest.done('Router %s has its gateway%s.'
                     % (router['name'], ' at ' + ', '.join(ips) if ips else ''),
                     _router_url(router_id))


@bp.route('/<router_id>/gateway/clear', methods=['POST'])
@signed_in
def clear_gateway(router_id):
    router = rest.call('network', 'PUT', '/routers/%s' % router_id,
                                  {'router': {'external_gateway_info': None}})['router']
    return rest.done('Router %s has no external gateway now.' % router['name'],
                     _router_url(router_id))


@bp.route('/<router_id>/interfaces', methods=['POST'])
@signed_in
def add_interface(router_id):
    subnet_id = rest.form('subnet_id')
    if not subnet_id:
        rest.refuse('Choose the subnet of the interface.')
    info = rest.call('network', 'PUT', '/routers/%s/add_router_interface' % router_id,
                                {'subnet_id': subnet_id})
    return rest.done('Interface added (port %s).' % info['port_id'],
                     _router_url(router_id))


@bp.route('/<router_id>/interfaces/remove', methods=['POST'])
@signed_in
def remove_interface(router_id):
    subnet_id = rest.form('subnet_id')
    if not subnet_id:
        rest.refuse('Say which subnet\'s interface to remove.')
    rest.call('network', 'PUT', '/routers/%s/remove_router_interface' % router_id,
                         {'subnet_id': subnet_id})
    return rest.done('Interface on subnet %s removed.' % (rest.form('label') or subnet_id),
                     _router_url(router_id))

@bp.route('/<router_id>/delete', methods=['POST'])
@signed_in
def delete(router_id):
    rest.call('network', 'DELETE', '/routers/%s' % router_id)
    return rest.done('Router %s deleted.' % (rest.form('name') or router_id),
                     flask.url_for('.index'))
