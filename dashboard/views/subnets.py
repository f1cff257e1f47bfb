"""Subnets, which live on their network's page: create one in a network
(CIDR, IP version, gateway or none, DHCP, allocation pools, DNS servers,
host routes), edit one, delete one. An edit sends only what changed, so an
untouched gateway or pool is not checked again."""

import flask

from dashboard import rest
from dashboard.views import neutron
from dashboard.views import signed_in

bp = flask.Blueprint('subnets', __name__, url_prefix='/subnets')


def _network_url(net_id):
    return flask.url_for('networks.detail', net_id=net_id)


@bp.route('/new/<net_id>', methods=['GET', 'POST'])
@signed_in
def create(net_id):
    net = rest.get('network', '/networks/%s' % net_id)['network']
    if flask.request.method == 'GET':
        return flask.render_template('network/subnet_form.html', net=net, subnet=None)
    values = neutron.subnet_fields(creating=True)
    if not values['name']:
        rest.refuse('Give the subnet a name.')
    values['network_id'] = net_id
    sub = rest.call('network', 'POST', '/subnets', {'subnet': values})['subnet']
    return rest.done('Subnet %s (%s) created in network %s.'
                     % (sub['name'] or sub['id'], sub['cidr'], net['name']),
                     _network_url(net_id))


@bp.route('/<subnet_id>/edit', methods=['GET', 'POST'])
@signed_in
def edit(subnet_id):
    sub = rest.get('network', '/subnets/%s' % subnet_id)['subnet']
    if flask.request.method == 'GET':
        net = rest.get('network', '/networks/%s' % sub['network_id'])['network']
        return flask.render_template('network/subnet_form.html', net=net, subnet=sub)
    values = neutron.subnet_fields(creating=False)
    changed = {k: v for k, v in values.items() if sub.get(k) != v}
    if changed:
        sub = rest.call('network', 'PUT', '/subnets/%s' % subnet_id, {'subnet': changed})['subnet']
    return rest.done('Subnet %s updated.' % (sub['name'] or sub['id']) if changed else
                     'Nothing to change on subnet %s.' % (sub['name'] or sub['id']),
                     _network_url(sub['network_id']))


@bp.route('/<subnet_id>/delete', methods=['POST'])
@signed_in
def delete(subnet_id):
    sub = rest.get('network', '/subnets/%s' % subnet_id)['subnet']
    rest.call('network', 'DELETE', '/subnets/%s' % subnet_id)
    return rest.done('Subnet %s (%s) deleted.' % (sub['name'] or sub['id'], sub['cidr']),
                     _network_url(sub['network_id']))
