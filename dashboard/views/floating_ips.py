"""Floating IPs: the project's floating IPs with what each one is bound to
(a server's port), allocation from an external network, association to a
server's port and disassociation, release. All through the network API, as
``openstack floating ip`` does it (Nova is not involved).

The list page makes one call per resource: floating IPs (the page needs
them), and on their own the project's ports, its servers' names and the
external networks (each may fail alone; the page says which).
"""

import flask

from dashboard import rest
from dashboard.views import signed_in

bp = flask.Blueprint('floating_ips', __name__, url_prefix='/floating-ips')
NAV = [('floating_ips.index', 'Floating IPs')]


def _first_ip(port):
    ips = [f.get('ip_address') for f in port.get('fixed_ips') or () if f.get('ip_address')]
    v4 = [ip for ip in ips if ':' not in ip]
    return (v4 or ips or [''])[0]


def _targets(ports, names, taken):
    """The server ports a floating IP can go to: [(port id, label)]."""
    out = []
    for p in ports:
        if not (p.get('device_owner') or '').startswith('compute:') or p['id'] in taken:
            continue
        server = names.get(p.get('device_id')) or p.get('device_id') or '?'
        out.append((p['id'], '%s · %s' % (server, _first_ip(p) or p['id'])))
    return sorted(out, key=lambda t: t[1].lower())


@bp.route('/')
@signed_in
def index():
    fips = rest.get('network', '/floatingips')['floatingips']
    ports_body, ports_err = rest.attempt('network', 'GET', '/ports')
    ports = (ports_body or {}).get('ports', [])
    names, names_err = rest.server_names() if ports else ({}, None)
    nets_body, nets_err = rest.attempt('network', 'GET', '/networks',
                                       **{'router:external': 'true'})
    nets = (nets_body or {}).get('networks', [])
    net_names = {n['id']: n.get('name') or n['id'] for n in nets}
    by_port = {p['id']: p for p in ports}
    for f in fips:
        port = by_port.get(f.get('port_id')) or {}
        f['server_id'] = port.get('device_id') if port.get('device_owner', '').startswith(
            'compute:') else None
        f['server_name'] = names.get(f['server_id']) or f['server_id']
        f['network_name'] = net_names.get(f.get('floating_network_id')) or \
            f.get('floating_network_id')
    fips.sort(key=lambda f: tuple(int(x) if x.isdigit() else 0 for x in
                                  (f.get('floating_ip_address') or '').split('.')))
    taken = {f.get('port_id') for f in fips if f.get('port_id')}
    return flask.render_template(
        'floating_ips/index.html', fips=fips, networks=nets,
        targets=_targets(ports, names, taken),
        errors=[e for e in (ports_err, names_err, nets_err) if e])


def _label(fip_id):
    return rest.form('fip') or fip_id


@bp.route('/allocate', methods=['POST'])
@signed_in
def allocate():
    network = rest.form('network')
    if not network:
        rest.refuse('Choose the external network to allocate the floating IP from.')
    body = {'floating_network_id': network}
    if rest.form('description'):
        body['description'] = rest.form('description')
    fip = rest.call('network', 'POST', '/floatingips', {'floatingip': body})['floatingip']
    return rest.done('Floating IP %s allocated.' % fip.get('floating_ip_address'),
                     flask.url_for('floating_ips.index'))


@bp.route('/<fip_id>/associate', methods=['POST'])
@signed_in
def associate(fip_id):
    port = rest.form('port')
    if not port:
        rest.refuse('Choose the server port to associate the floating IP with.')
    rest.call('network', 'PUT', '/floatingips/%s' % fip_id, {'floatingip': {'port_id': port}})
    return rest.done('Floating IP %s associated.' % _label(fip_id),
                     flask.url_for('floating_ips.index'))


@bp.route('/<fip_id>/disassociate', methods=['POST'])
@signed_in
def disassociate(fip_id):
    rest.call('network', 'PUT', '/floatingips/%s' % fip_id, {'floatingip': {'port_id': None}})
    return rest.done('Floating IP %s disassociated.' % _label(fip_id),
                     flask.url_for('floating_ips.index'))


@bp.route('/<fip_id>/release', methods=['POST'])
@signed_in
def release(fip_id):
    rest.call('network', 'DELETE', '/floatingips/%s' % fip_id)
    return rest.done('Floating IP %s released.' % _label(fip_id),
                     flask.url_for('floating_ips.index'))
