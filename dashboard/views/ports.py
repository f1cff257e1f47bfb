"""Ports: the list, a port's page (fixed IPs, device owner, security
groups), create (on a network, with a fixed IP: a subnet, an address or
both), edit (name, security groups, admin state) and delete.

The list makes one call per kind of resource: the page of ports, then
the names of their networks in one call.
"""

import flask

from dashboard import rest
from dashboard.views import neutron
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('ports', __name__, url_prefix='/ports')
NAV = [('ports.index', 'Ports')]


@bp.route('/')
@signed_in
def index():
    limit, marker = paging()
    network_id = flask.request.args.get('network_id') or None
    ports, next_marker = neutron.page('ports', limit, marker, network_id=network_id)
    networks = neutron.names_of('networks', [p['network_id'] for p in ports])
    return flask.render_template('network/ports.html', ports=ports, networks=networks,
                                 network_id=network_id, limit=limit, marker=marker,
                                 next_marker=next_marker)


@bp.route('/<port_id>')
@signed_in
def detail(port_id):
    port = rest.get('network', '/ports/%s' % port_id)['port']
    net = neutron.names_of('networks', [port['network_id']]).get(port['network_id'])
    subnets = neutron.names_of('subnets', [f['subnet_id'] for f in port['fixed_ips']], 'cidr')
    groups = neutron.names_of('security-groups', port.get('security_groups') or [])
    return flask.render_template('network/port.html', port=port, net=net, subnets=subnets,
                                 groups=groups)


def _security_groups():
    return sorted(neutron.listing('security-groups', fields=['id', 'name', 'project_id']),
                  key=lambda g: (g['name'] != 'default', g['name']))


def _usable_networks():
    """The networks a port may go on (own or shared), with their subnets."""
    me = flask.session['me']['project_id']
    nets = [n for n in neutron.listing('networks', fields=['id', 'name', 'shared',
                                                           'project_id', 'router:external'])
            if n.get('shared') or n.get('project_id') == me]
    subnets = neutron.listing('subnets', network_id=[n['id'] for n in nets],
                              fields=['id', 'name', 'cidr', 'network_id']) if nets else []
    return nets, subnets


def _values():
    values = {'name': rest.form('name'),
              'admin_state_up': rest.form('admin_state', 'enable') != 'disable',
              'security_groups': flask.request.form.getlist('security_group')}
    return values


@bp.route('/new', methods=['GET', 'POST'])
@signed_in
def create():
    if flask.request.method == 'GET':
        nets, subnets = _usable_networks()
        return flask.render_template('network/port_form.html', port=None, networks=nets,
                                     subnets=subnets, groups=_security_groups(),
                                     network_id=flask.request.args.get('network_id'))
    values = _values()
    values['network_id'] = rest.form('network_id')
    if not values['network_id']:
        rest.refuse('Choose the network of the port.')
    if not values['security_groups']:
        del values['security_groups']       # the project's default group
    fixed = {k: v for k, v in (('subnet_id', rest.form('fixed_subnet')),
                               ('ip_address', rest.form('fixed_ip'))) if v}
    if fixed:
        values['fixed_ips'] = [fixed]
    port = rest.call('network', 'POST', '/ports', {'port': values})['port']
    ips = ', '.join(f['ip_address'] for f in port['fixed_ips'])
    return rest.done('Port %s created%s.' % (port['name'] or port['id'],
                     ' with ' + ips if ips else ''),
                     flask.url_for('.detail', port_id=port['id']))


@bp.route('/<port_id>/edit', methods=['GET', 'POST'])
@signed_in
def edit(port_id):
    port = rest.get('network', '/ports/%s' % port_id)['port']
    if flask.request.method == 'GET':
        return flask.render_template('network/port_form.html', port=port,
                                     groups=_security_groups())
    values = _values()
    changed = {k: v for k, v in values.items()
               if (sorted(v) if k == 'security_groups' else v) !=
               (sorted(port.get(k) or []) if k == 'security_groups' else port.get(k))}
    if changed:
        port = rest.call('network', 'PUT', '/ports/%s' % port_id, {'port': changed})['port']
    label = port['name'] or port['id']
    return rest.done('Port %s updated.' % label if changed else
                     'Nothing to change on port %s.' % label,
                     flask.url_for('.detail', port_id=port_id))


@bp.route('/<port_id>/delete', methods=['POST'])
@signed_in
def delete(port_id):
    port = rest.get('network', '/ports/%s' % port_id)['port']
    rest.call('network', 'DELETE', '/ports/%s' % port_id)
    return rest.done('Port %s deleted.' % (port['name'] or port['id']),
                     flask.url_for('networks.detail', net_id=port['network_id']))
