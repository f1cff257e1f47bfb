"""Networks: the list (the project's own, shared and external ones the user
sees), a network's page with its subnets and ports, create (with an
optional first subnet), edit (name, admin state; shared and external for
an admin) and delete.

A list page makes one call per kind of resource: the page of networks,
then the subnets of all of them in one call. A network created with a
subnet whose creation the API refuses is deleted again, so the form can
be corrected and sent once more without leaving a network behind.
"""

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import is_admin
from dashboard.views import neutron
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('networks', __name__, url_prefix='/networks')
NAV = [('networks.index', 'Networks')]

_SUBNET_FIELDS = ['id', 'name', 'cidr', 'network_id', 'gateway_ip', 'enable_dhcp']


def _owner(item):
    """'yours', or what makes a network of another project visible."""
    if item.get('project_id') == flask.session['me']['project_id']:
        return 'yours'
    return 'external' if item.get('router:external') else \
        'shared' if item.get('shared') else 'other project'


@bp.route('/')
@signed_in
def index():
    limit, marker = paging()
    nets, next_marker = neutron.page('networks', limit, marker)
    subnets = {}
    if nets:
        for sub in neutron.listing('subnets', network_id=[n['id'] for n in nets],
                                   fields=_SUBNET_FIELDS):
            subnets.setdefault(sub['network_id'], []).append(sub)
    for net in nets:
        net['subnet_rows'] = subnets.get(net['id'], [])
        net['owner'] = _owner(net)
    return flask.render_template('network/networks.html', networks=nets, limit=limit,
                                 marker=marker, next_marker=next_marker)


@bp.route('/<net_id>')
@signed_in
def detail(net_id):
    net = rest.get('network', '/networks/%s' % net_id)['network']
    net['owner'] = _owner(net)
    subnets = neutron.listing('subnets', network_id=net_id)
    ports = neutron.listing('ports', network_id=net_id)
    names = {s['id']: s for s in subnets}
    routers = neutron.names_of('routers', [p['device_id'] for p in ports
                                           if p['device_owner'].startswith('network:router')])
    return flask.render_template('network/network.html', net=net, subnets=subnets,
                                 ports=ports, subnet_names=names, routers=routers)


# -- create ---------------------------------------------------------------------

def _network_values():
    values = {'name': rest.form('name'),
              'admin_state_up': rest.form('admin_state', 'enable') != 'disable'}
    if is_admin():
        values['shared'] = neutron.flag('share', 'share')
        values['router:external'] = neutron.flag('external', 'external')
    return values


@bp.route('/new', methods=['GET', 'POST'])
@signed_in
def create():
    if flask.request.method == 'GET':
        return flask.render_template('network/network_form.html', net=None,
                                     subnet=None, with_subnet=True)
    values = _network_values()
    if not values['name']:
        rest.refuse('Give the network a name.')
    subnet = neutron.subnet_fields('with-network') if neutron.flag('with_subnet') else None
    net = rest.call('network', 'POST', '/networks', {'network': values})['network']
    if subnet is None:
        return rest.done('Network %s created.' % net['name'],
                         flask.url_for('.detail', net_id=net['id']))
    subnet['network_id'] = net['id']
    try:
        sub = rest.call('network', 'POST', '/subnets', {'subnet': subnet})['subnet']
    except cloud.APIError as err:
        # Not half a result: the network goes too, and the form stays to be fixed.
        _, gone = rest.attempt('network', 'DELETE', '/networks/%s' % net['id'])
        err.message = 'The subnet was refused, so network %s was not kept: %s' % (
            net['name'], err.message) if gone is None else err.message
        raise
    return rest.done('Network %s created with subnet %s (%s).'
                     % (net['name'], sub['name'] or sub['id'], sub['cidr']),
                     flask.url_for('.detail', net_id=net['id']))


# -- edit, delete -----------------------------------------------------------------

@bp.route('/<net_id>/edit', methods=['GET', 'POST'])
@signed_in
def edit(net_id):
    net = rest.get('network', '/networks/%s' % net_id)['network']
    if flask.request.method == 'GET':
        return flask.render_template('network/network_form.html', net=net)
    values = {'name': rest.form('name'),
              'admin_state_up': rest.form('admin_state', 'enable') != 'disable'}
    if is_admin():
        values['shared'] = rest.form('share', 'no-share') == 'share'
        values['router:external'] = rest.form('external', 'internal') == 'external'
    changed = {k: v for k, v in values.items() if net.get(k) != v}
    if changed:
        net = rest.call('network', 'PUT', '/networks/%s' % net_id, {'network': changed})['network']
    return rest.done('Network %s updated.' % net['name'] if changed else
                     'Nothing to change on network %s.' % net['name'],
                     flask.url_for('.detail', net_id=net_id))


@bp.route('/<net_id>/delete', methods=['POST'])
@signed_in
def delete(net_id):
    name = rest.form('name') or net_id
    rest.call('network', 'DELETE', '/networks/%s' % net_id)
    return rest.done('Network %s deleted.' % name, flask.url_for('.index'))
