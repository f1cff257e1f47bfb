"""Shared pieces of the network tests: a small client that speaks to
/network/v2.0 with a token, a third project, and the bootstrap networks.
Other test_network_* modules import these fixtures."""

import pytest

from tests.unit.conftest import issue

BASE = '/network/v2.0'


class Net:
    """Requests to the network API as one user; each checks its status."""

    def __init__(self, client, token, project_id):
        self.client, self.token, self.project_id = client, token, project_id

    def _call(self, method, path, body, status):
        r = self.client.open(BASE + path, method=method, json=body,
                             headers={'X-Auth-Token': self.token})
        if status is not None:
            assert r.status_code == status, (method, path, r.status_code,
                                             r.get_data(as_text=True))
        return r

    def get(self, path, status=200):
        return self._call('GET', path, None, status).get_json()

    def post(self, path, body, status=201):
        return self._call('POST', path, body, status).get_json()

    def put(self, path, body, status=200):
        return self._call('PUT', path, body, status).get_json()

    def delete(self, path, status=204):
        return self._call('DELETE', path, None, status)

    def error(self, method, path, body=None, status=400):
        """The NeutronError of a failing request."""
        r = self._call(method, path, body, status)
        return r.get_json()['NeutronError']

    # shortcuts
    def network(self, name='net', **kw):
        return self.post('/networks', {'network': dict(name=name, **kw)})['network']

    def subnet(self, network_id, cidr='10.1.0.0/24', **kw):
        body = dict(network_id=network_id, cidr=cidr, ip_version=4, **kw)
        return self.post('/subnets', {'subnet': body})['subnet']

    def port(self, network_id, **kw):
        return self.post('/ports', {'port': dict(network_id=network_id, **kw)})['port']

    def router(self, name='router', gateway=None, subnets=(), **kw):
        """A router with its gateway on network ``gateway`` (an id) and an
        interface on each of ``subnets`` (ids)."""
        if gateway:
            kw['external_gateway_info'] = {'network_id': gateway}
        router = self.post('/routers', {'router': dict(name=name, **kw)})['router']
        for sub in subnets:
            self.put('/routers/%s/add_router_interface' % router['id'], {'subnet_id': sub})
        return router


@pytest.fixture(autouse=True)
def casts(monkeypatch):
    """No bus in unit tests: the refresh_network casts the API would send,
    recorded as host names in order. Test modules import this fixture."""
    from api.network import notify
    sent = []

    class FakeCompute:
        def refresh_network(self, context, host):
            sent.append(host)

    monkeypatch.setattr(notify.compute_rpcapi, 'ComputeAPI', FakeCompute)
    return sent


def _project_id(client, admin_token, name):
    r = client.get('/identity/v3/projects?name=%s' % name,
                   headers={'X-Auth-Token': admin_token})
    return r.get_json()['projects'][0]['id']


@pytest.fixture
def admin(client, admin_token):
    return Net(client, admin_token, _project_id(client, admin_token, 'admin'))


@pytest.fixture
def demo(client, admin_token, demo_token):
    return Net(client, demo_token, _project_id(client, admin_token, 'demo'))


@pytest.fixture
def other(client, admin_token):
    """A member of a third project, 'other'."""
    h = {'X-Auth-Token': admin_token}
    pid = client.post('/identity/v3/projects', json={'project': {
        'name': 'other', 'domain_id': 'default'}}, headers=h).get_json()['project']['id']
    uid = client.post('/identity/v3/users', json={'user': {
        'name': 'olga', 'password': 'olga-pw', 'default_project_id': pid}},
        headers=h).get_json()['user']['id']
    rid = client.get('/identity/v3/roles?name=member', headers=h).get_json()['roles'][0]['id']
    r = client.put('/identity/v3/projects/%s/users/%s/roles/%s' % (pid, uid, rid), headers=h)
    assert r.status_code == 204
    return Net(client, issue(client, 'olga', 'olga-pw', 'other')[0], pid)


@pytest.fixture
def public(admin):
    """The bootstrap networks: external 'public' and shared 'private'."""
    from api.network import bootstrap
    bootstrap.bootstrap(admin.project_id)
    nets = {n['name']: n for n in admin.get('/networks')['networks']}
    return nets['public'], nets['private']


def ctx_of(net):
    """A request context for calling the database layer as ``net``'s user."""
    from common.context import RequestContext
    return RequestContext(project_id=net.project_id, roles=['member', 'reader'])


def test_helpers_work(demo):
    assert demo.get('/networks') == {'networks': []}
