"""The dashboard's network pages without a cloud: how their forms are read
(allocation pools, host routes, gateway or none, DHCP), that a list page
makes one call per kind of resource however many rows it has, and that a
create or edit sends the API what the form says. The network API is a
fake here (a recording function); the browser tests in
tests/dashboard/test_networks.py use the real one."""

import flask
import pytest
from werkzeug import exceptions as wz_exc

from common.conf import CONF
from dashboard import rest
from dashboard.views import neutron

PROJECT = 'p' * 32
OTHER = 'o' * 32


def _net(i, **kw):
    return dict({'id': 'net-%d' % i, 'name': 'net%d' % i, 'status': 'ACTIVE',
                 'admin_state_up': True, 'shared': False, 'router:external': False,
                 'project_id': PROJECT, 'subnets': ['sub-%d' % i], 'mtu': 1450}, **kw)


def _sub(i, **kw):
    return dict({'id': 'sub-%d' % i, 'name': 'sub%d' % i, 'network_id': 'net-%d' % i,
                 'cidr': '10.0.%d.0/24' % i, 'ip_version': 4, 'gateway_ip': '10.0.%d.1' % i,
                 'enable_dhcp': True, 'allocation_pools': [
                     {'start': '10.0.%d.2' % i, 'end': '10.0.%d.254' % i}],
                 'dns_nameservers': [], 'host_routes': [], 'project_id': PROJECT}, **kw)


def _port(i, **kw):
    return dict({'id': 'port-%d' % i, 'name': 'port%d' % i, 'network_id': 'net-%d' % (i % 3),
                 'fixed_ips': [{'subnet_id': 'sub-%d' % (i % 3), 'ip_address': '10.0.0.%d' % i}],
                 'mac_address': 'fa:16:3e:00:00:%02x' % i, 'device_owner': '',
                 'device_id': '', 'status': 'DOWN', 'admin_state_up': True,
                 'security_groups': ['sg-1'], 'project_id': PROJECT}, **kw)


class FakeNeutron:
    """Answers the network calls of dashboard/rest.py from a few canned
    resources, and records them."""

    def __init__(self):
        self.calls = []
        self.nets = [_net(i) for i in range(3)] + [
            _net(9, name='public', project_id=OTHER, **{'router:external': True})]
        self.subs = [_sub(i) for i in range(3)]
        self.ports = [_port(i) for i in range(7)] + [
            _port(20, device_owner=neutron.INTERFACE_OWNER, device_id='r-1', network_id='net-1',
                  fixed_ips=[{'subnet_id': 'sub-1', 'ip_address': '10.0.1.1'}])]
        self.routers = [{'id': 'r-%d' % i, 'name': 'router%d' % i, 'status': 'ACTIVE',
                         'admin_state_up': True, 'project_id': PROJECT, 'routes': [],
                         'external_gateway_info': {'network_id': 'net-9', 'enable_snat': True,
                                                   'external_fixed_ips': [
                                                       {'subnet_id': 'x', 'ip_address':
                                                        '172.24.4.%d' % (10 + i)}]}}
                        for i in range(4)]
        self.groups = [{'id': 'sg-1', 'name': 'default', 'project_id': PROJECT},
                       {'id': 'sg-2', 'name': 'web', 'project_id': PROJECT}]
        self.answers = {}

    def kinds(self, method='GET'):
        return [path.strip('/').split('/')[0] for m, path, _b, _p in self.calls if m == method]

    def __call__(self, method, path, body=None, **params):
        self.calls.append((method, path, body, params))
        if (method, path) in self.answers:
            answer = self.answers[(method, path)]
            if isinstance(answer, Exception):
                raise answer
            return answer
        coll, _, rest = path.strip('/').partition('/')
        items = {'networks': self.nets, 'subnets': self.subs, 'ports': self.ports,
                 'routers': self.routers, 'security-groups': self.groups}[coll]
        key = coll.replace('-', '_')
        if method == 'GET' and rest:
            return {key[:-1]: next(i for i in items if i['id'] == rest)}
        if method == 'GET':
            for name, wanted in params.items():
                if name in ('fields', 'limit', 'marker') or wanted is None:
                    continue
                wanted = wanted if isinstance(wanted, list) else [wanted]
                items = [i for i in items if str(i.get(name)) in wanted]
            return {key: list(items)}
        if method in ('POST', 'PUT'):
            obj = dict(next((i for i in items if i['id'] == rest), {}) if rest else {})
            obj.update(body[key[:-1]] if body and key[:-1] in body else {})
            obj.setdefault('id', 'new-1')
            obj.setdefault('name', '')
            obj.setdefault('fixed_ips', [])
            obj.setdefault('cidr', obj.get('cidr', ''))
            return {key[:-1]: obj}
        return None


@pytest.fixture
def app(conf, tmp_path, monkeypatch):
    CONF.set_override('state_path', str(tmp_path / 'dash'), 'dashboard')
    from dashboard import app as dash_app
    application = dash_app.create_app()
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    yield application
    CONF.clear_override('state_path', 'dashboard')


@pytest.fixture
def fake(monkeypatch):
    f = FakeNeutron()
    real_call = rest.call

    def call(service, method, path, body=None, params=None, **kw):
        if service != 'network':
            return real_call(service, method, path, body, params=params, **kw)
        return f(method, path, body, **(params or {}))
    monkeypatch.setattr(rest, 'call', call)
    return f


@pytest.fixture
def client(app, fake):
    c = app.test_client()
    with c.session_transaction() as s:
        s['scoped'] = {'token': 't', 'body': {}}
        s['me'] = {'user_id': 'u', 'user_name': 'demo', 'domain': 'Default',
                   'project_id': PROJECT, 'project_name': 'demo', 'roles': ['member']}
    return c


# -- reading the forms ------------------------------------------------------------

def test_pools_and_routes_in_the_shapes_people_type():
    assert neutron.parse_pools(['10.0.0.10,10.0.0.20', '10.0.0.30 - 10.0.0.40',
                                '10.0.0.50-10.0.0.60', 'start=10.0.0.70,end=10.0.0.80']) == [
        {'start': '10.0.0.10', 'end': '10.0.0.20'}, {'start': '10.0.0.30', 'end': '10.0.0.40'},
        {'start': '10.0.0.50', 'end': '10.0.0.60'}, {'start': '10.0.0.70', 'end': '10.0.0.80'}]
    assert neutron.parse_routes(['10.2.0.0/16,10.0.0.254', '0.0.0.0/0 10.0.0.1']) == [
        {'destination': '10.2.0.0/16', 'nexthop': '10.0.0.254'},
        {'destination': '0.0.0.0/0', 'nexthop': '10.0.0.1'}]


def test_a_line_that_is_not_two_addresses_is_a_400_that_names_it():
    with pytest.raises(wz_exc.BadRequest, match='line 2'):
        neutron.parse_pools(['10.0.0.10,10.0.0.20', '10.0.0.30'])
    with pytest.raises(wz_exc.BadRequest, match='destination CIDR'):
        neutron.parse_routes(['10.0.0.1,10.0.0.2'])


def _fields(form, creating=True):
    with flask.Flask(__name__).test_request_context(method='POST', data=form):
        return neutron.subnet_fields(creating)


def test_subnet_fields_gateway_dhcp_and_lists():
    assert _fields({'name': 's', 'cidr': '10.9.0.0/24', 'dhcp': 'no-dhcp',
                    'no_gateway': 'none', 'dns_nameservers': '1.1.1.1\n\n8.8.8.8\n'}) == {
        'name': 's', 'cidr': '10.9.0.0/24', 'ip_version': 4, 'gateway_ip': None,
        'enable_dhcp': False, 'dns_nameservers': ['1.1.1.1', '8.8.8.8'], 'host_routes': []}
    created = _fields({'name': 's', 'cidr': '10.9.0.0/24', 'gateway': '10.9.0.254',
                       'allocation_pools': '10.9.0.10,10.9.0.20'})
    assert created['gateway_ip'] == '10.9.0.254' and created['enable_dhcp'] is True
    assert created['allocation_pools'] == [{'start': '10.9.0.10', 'end': '10.9.0.20'}]
    # editing: an empty gateway keeps the current one; empty pools clear them
    edited = _fields({'name': 's', 'dhcp': 'dhcp'}, creating=False)
    assert 'gateway_ip' not in edited and edited['allocation_pools'] == []
    with pytest.raises(wz_exc.BadRequest, match='CIDR'):
        _fields({'name': 's'})


# -- one call per kind of resource ----------------------------------------------------

def test_network_list_gets_subnet_names_in_one_call(client, fake):
    resp = client.get('/networks/')
    assert resp.status_code == 200, resp.text
    assert sorted(fake.kinds()) == ['networks', 'subnets']
    assert 'sub1' in resp.text and '10.0.2.0/24' in resp.text and 'public' in resp.text
    assert 'openstack network list' in resp.text


def test_port_and_router_lists_make_one_call_per_kind(client, fake):
    resp = client.get('/ports/')
    assert resp.status_code == 200, resp.text
    assert sorted(fake.kinds()) == ['networks', 'ports']
    fake.calls.clear()
    resp = client.get('/routers/')
    assert resp.status_code == 200, resp.text
    assert sorted(fake.kinds()) == ['networks', 'ports', 'routers', 'subnets']
    assert '172.24.4.11' in resp.text and 'sub1' in resp.text


@pytest.mark.parametrize('path', ['/networks/net-1', '/networks/new', '/networks/net-1/edit',
                                  '/subnets/new/net-1', '/subnets/sub-1/edit', '/ports/port-3',
                                  '/ports/new?network_id=net-1', '/ports/port-3/edit',
                                  '/routers/r-1', '/routers/new'])
def test_pages_render_with_their_equivalent_command(client, path):
    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    assert 'data-cli="openstack ' in resp.text


# -- what the forms send ------------------------------------------------------------------

def test_create_network_with_subnet_sends_both(client, fake):
    resp = client.post('/networks/new', data={
        'name': 'n1', 'admin_state': 'enable', 'with_subnet': 'on', 'subnet_name': 's1',
        'cidr': '10.5.0.0/24', 'ip_version': '4', 'dhcp': 'dhcp',
        'host_routes': '10.6.0.0/16,10.5.0.254'})
    assert resp.status_code == 303, resp.text
    posts = [(p, b) for m, p, b, _ in fake.calls if m == 'POST']
    assert posts[0] == ('/networks', {'network': {'name': 'n1', 'admin_state_up': True}})
    assert posts[1][1]['subnet'] == {
        'name': 's1', 'cidr': '10.5.0.0/24', 'ip_version': 4, 'enable_dhcp': True,
        'dns_nameservers': [], 'network_id': 'new-1',
        'host_routes': [{'destination': '10.6.0.0/16', 'nexthop': '10.5.0.254'}]}


def test_a_refused_subnet_takes_its_new_network_back(client, fake):
    from dashboard import cloud
    fake.answers[('POST', '/subnets')] = cloud.APIError(
        'network (Neutron)', "Invalid input for cidr. Reason: '10.5.0.0/33' is not a valid "
        'IP subnet.', status=400, request_id='req-1')
    resp = client.post('/networks/new', data={'name': 'n1', 'with_subnet': 'on',
                                              'subnet_name': 's1', 'cidr': '10.5.0.0/33'},
                       headers={'HX-Request': 'true'})
    assert resp.status_code == 400
    assert resp.headers['HX-Retarget'] == '#alerts'
    assert 'is not a valid IP subnet' in resp.text and 'req-1' in resp.text
    assert 'was not kept' in resp.text
    assert ('DELETE', '/networks/new-1', None, {}) in fake.calls


def test_edits_send_only_what_changed(client, fake):
    resp = client.post('/subnets/sub-1/edit', data={
        'name': 'sub1', 'gateway': '10.0.1.1', 'dhcp': 'dhcp',
        'allocation_pools': '10.0.1.2,10.0.1.254', 'dns_nameservers': '9.9.9.9'})
    assert resp.status_code == 303, resp.text
    assert [b for m, _p, b, _ in fake.calls if m == 'PUT'] == [
        {'subnet': {'dns_nameservers': ['9.9.9.9']}}]
    fake.calls.clear()
    resp = client.post('/ports/port-3/edit', data={'name': 'renamed', 'admin_state': 'enable',
                                                    'security_group': ['sg-1', 'sg-2']})
    assert resp.status_code == 303, resp.text
    assert [b for m, _p, b, _ in fake.calls if m == 'PUT'] == [
        {'port': {'name': 'renamed', 'security_groups': ['sg-1', 'sg-2']}}]


def test_router_gateway_and_interfaces(client, fake):
    client.post('/routers/r-1/gateway', data={'external_network': 'net-9'})
    client.post('/routers/r-1/gateway/clear')
    fake.answers[('PUT', '/routers/r-1/add_router_interface')] = {'port_id': 'p-9'}
    client.post('/routers/r-1/interfaces', data={'subnet_id': 'sub-2'})
    client.post('/routers/r-1/interfaces/remove', data={'subnet_id': 'sub-2'})
    assert [(p, b) for m, p, b, _ in fake.calls if m == 'PUT'] == [
        ('/routers/r-1', {'router': {'external_gateway_info': {'network_id': 'net-9'}}}),
        ('/routers/r-1', {'router': {'external_gateway_info': None}}),
        ('/routers/r-1/add_router_interface', {'subnet_id': 'sub-2'}),
        ('/routers/r-1/remove_router_interface', {'subnet_id': 'sub-2'})]


def test_only_an_admin_sees_and_sends_shared_and_external(client, fake):
    assert 'name="share"' not in client.get('/networks/net-1/edit').text
    client.post('/networks/net-1/edit', data={'name': 'net1', 'admin_state': 'disable',
                                              'share': 'share'})
    assert [b for m, _p, b, _ in fake.calls if m == 'PUT'] == [
        {'network': {'admin_state_up': False}}]
    fake.calls.clear()
    with client.session_transaction() as s:
        s['me'] = dict(s['me'], roles=['admin', 'member'])
    page = client.get('/networks/net-1/edit').text
    assert 'name="share"' in page and '[--{share}]' in page
    client.post('/networks/net-1/edit', data={'name': 'net1', 'admin_state': 'enable',
                                              'share': 'share', 'external': 'internal'})
    assert [b for m, _p, b, _ in fake.calls if m == 'PUT'] == [{'network': {'shared': True}}]
