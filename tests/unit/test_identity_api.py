"""The identity API through Flask's test client, on a real SQLite file."""

import datetime

import pytest

from common import tokens
from tests.fixtures.identity import ADMIN_PW
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue


def H(token):
    return {'X-Auth-Token': token}


def test_versions_need_no_token(client):
    r = client.get('/identity/v3')
    assert r.status_code == 200 and r.get_json()['version']['id'] == 'v3.14'
    r = client.get('/identity/')
    assert r.status_code == 300 and r.get_json()['versions']['values'][0]['status'] == 'stable'
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')


def test_token_body(client):
    token, body = issue(client, 'admin', ADMIN_PW, 'admin')
    t = body['token']
    assert t['methods'] == ['password']
    assert t['user']['name'] == 'admin' and t['user']['domain']['id'] == 'default'
    assert t['project']['name'] == 'admin'
    assert {r['name'] for r in t['roles']} == {'admin', 'member', 'reader'}
    assert t['expires_at'].endswith('Z') and t['issued_at'].endswith('Z')
    types = {c['type'] for c in t['catalog']}
    assert {'identity', 'compute', 'image', 'volumev3', 'network'} <= types
    vol = next(c for c in t['catalog'] if c['type'] == 'volumev3')
    assert vol['endpoints'][0]['url'].endswith('/volume/v3/' + t['project']['id'])


def test_default_project_scope_and_unscoped(client):
    _tok, body = issue(client, 'demo', DEMO_PW)  # no scope: default project
    assert body['token']['project']['name'] == 'demo'
    r = client.post('/identity/v3/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'demo', 'domain': {'name': 'Default'}, 'password': DEMO_PW}}},
        'scope': 'unscoped'}})
    assert r.status_code == 201
    assert 'project' not in r.get_json()['token'] and 'catalog' not in r.get_json()['token']


def test_validate_check_and_revoke(client, admin_token, demo_token):
    r = client.get('/identity/v3/auth/tokens',
                   headers={**H(admin_token), 'X-Subject-Token': demo_token})
    assert r.status_code == 200 and r.get_json()['token']['user']['name'] == 'demo'
    assert client.head('/identity/v3/auth/tokens', headers={
        **H(demo_token), 'X-Subject-Token': demo_token}).status_code == 200
    # demo may not look at admin's token
    r = client.get('/identity/v3/auth/tokens',
                   headers={**H(demo_token), 'X-Subject-Token': admin_token})
    assert r.status_code == 403
    assert client.delete('/identity/v3/auth/tokens', headers={
        **H(admin_token), 'X-Subject-Token': demo_token}).status_code == 204
    r = client.get('/identity/v3/auth/tokens',
                   headers={**H(admin_token), 'X-Subject-Token': demo_token})
    assert r.status_code == 404
    assert client.get('/identity/v3/auth/projects', headers=H(demo_token)).status_code == 401


def test_token_rescope(client):
    unscoped = client.post('/identity/v3/auth/tokens', json={'auth': {'identity': {
        'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'domain': {'id': 'default'}, 'password': ADMIN_PW}}},
        'scope': 'unscoped'}}).headers['X-Subject-Token']
    r = client.post('/identity/v3/auth/tokens', json={'auth': {
        'identity': {'methods': ['token'], 'token': {'id': unscoped}},
        'scope': {'project': {'name': 'demo', 'domain': {'id': 'default'}}}}})
    assert r.status_code == 401  # admin has no role on demo
    r = client.post('/identity/v3/auth/tokens', json={'auth': {
        'identity': {'methods': ['token'], 'token': {'id': unscoped}},
        'scope': {'domain': {'id': 'default'}}}})
    assert r.status_code == 201 and r.get_json()['token']['domain']['id'] == 'default'


@pytest.mark.parametrize('body,status,fragment', [
    (b'{not json', 400, 'not valid JSON'),
    (b'[]', 400, 'must be a JSON object'),
    (b'', 400, 'empty'),
    (b'{"auth": {"identity": {"methods": "password"}}}', 400, "auth.identity.methods"),
    (b'{"auth": {"identity": {"methods": ["password"]}, "bogus": 1}}', 400, 'bogus'),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {"user": '
     b'{"name": "admin", "domain": {"id": "default"}, "password": "nope"}}}}}', 401, ''),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {"user": '
     b'{"name": "ghost", "domain": {"id": "default"}, "password": "x"}}}}}', 401, ''),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {"user": '
     b'{"name": "admin", "password": "x"}}}}}', 400, 'domain'),
    (b'{"auth": {"identity": {"methods": ["magic"]}}}', 401, 'Unsupported'),
    (b'{"auth": {"identity": {"methods": ["password"], "password": {"user": '
     b'{"name": "admin", "domain": {"id": "default"}, "password": "' + ADMIN_PW.encode() +
     b'"}}}, "scope": {"system": {"all": true}}}}', 400, 'System'),
])
def test_bad_auth_requests(client, body, status, fragment):
    r = client.post('/identity/v3/auth/tokens', data=body,
                    headers={'Content-Type': 'application/json'})
    assert r.status_code == status, r.get_data(as_text=True)
    err = r.get_json()['error']
    assert err['code'] == status and fragment in err['message']
    assert 'Traceback' not in r.get_data(as_text=True)


@pytest.mark.parametrize('headers', [{}, {'X-Auth-Token': 'garbage'},
                                     {'X-Auth-Token': 'gAAAAA' + 'B' * 180}])
def test_missing_or_garbage_token_is_401(client, headers):
    r = client.get('/identity/v3/projects', headers=headers)
    assert r.status_code == 401
    assert r.get_json()['error']['title'] == 'Unauthorized'
    assert 'Keystone uri=' in r.headers['WWW-Authenticate']


def test_expired_token_is_401(client, cloud_db):
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    tok = tokens.encode(tokens.TokenPayload('x', ['password'], issued_at=past,
                                            expires_at=past + datetime.timedelta(hours=1)))
    r = client.get('/identity/v3/projects', headers=H(tok))
    assert r.status_code == 401 and 'expired' in r.get_json()['error']['message']


def test_crud_and_errors(client, admin_token):
    h = H(admin_token)
    r = client.post('/identity/v3/projects', json={'project': {'name': 'p1'}}, headers=h)
    assert r.status_code == 201
    pid = r.get_json()['project']['id']
    assert r.get_json()['project']['domain_id'] == 'default'
    r = client.post('/identity/v3/projects', json={'project': {'name': 'p1'}}, headers=h)
    assert r.status_code == 409 and 'already exists' in r.get_json()['error']['message']
    r = client.post('/identity/v3/projects', json={'project': {'name': 7}}, headers=h)
    assert r.status_code == 400 and "'project.name'" in r.get_json()['error']['message']
    r = client.post('/identity/v3/projects', json={'project': {'name': 'x', 'colour': 1}},
                    headers=h)
    assert r.status_code == 400 and 'colour' in r.get_json()['error']['message']
    r = client.post('/identity/v3/projects',
                    json={'project': {'name': 'x', 'domain_id': 'nowhere'}}, headers=h)
    assert r.status_code == 404 and 'nowhere' in r.get_json()['error']['message']
    r = client.patch('/identity/v3/projects/' + pid,
                     json={'project': {'description': 'new'}}, headers=h)
    assert r.status_code == 200 and r.get_json()['project']['description'] == 'new'
    r = client.get('/identity/v3/projects?name=p1', headers=h)
    assert [p['id'] for p in r.get_json()['projects']] == [pid]
    assert client.get('/identity/v3/projects/nope', headers=h).status_code == 404
    assert client.delete('/identity/v3/projects/' + pid, headers=h).status_code == 204
    assert client.delete('/identity/v3/projects/' + pid, headers=h).status_code == 404
    r = client.put('/identity/v3/projects', headers=h)
    assert r.status_code == 405 and r.get_json()['error']['code'] == 405


def test_grants(client, admin_token):
    h = H(admin_token)
    uid = client.post('/identity/v3/users', json={'user': {'name': 'bob', 'password': 'b'}},
                      headers=h).get_json()['user']['id']
    pid = client.get('/identity/v3/projects?name=demo', headers=h).get_json()['projects'][0]['id']
    rid = client.get('/identity/v3/roles?name=reader', headers=h).get_json()['roles'][0]['id']
    url = '/identity/v3/projects/%s/users/%s/roles/%s' % (pid, uid, rid)
    assert client.head(url, headers=h).status_code == 404
    assert client.put(url, headers=h).status_code == 204
    assert client.put(url, headers=h).status_code == 204  # idempotent
    assert client.head(url, headers=h).status_code == 204
    r = client.get('/identity/v3/role_assignments?user.id=%s&include_names=1' % uid, headers=h)
    (a,) = r.get_json()['role_assignments']
    assert a['role']['name'] == 'reader' and a['scope']['project']['name'] == 'demo'
    assert a['user']['domain']['name'] == 'Default'
    tok, _ = issue(client, 'bob', 'b', 'demo')
    assert client.get('/identity/v3/auth/projects', headers=H(tok)).status_code == 200
    assert client.delete(url, headers=h).status_code == 204
    # role gone: bob's token no longer works
    assert client.get('/identity/v3/auth/projects', headers=H(tok)).status_code == 401
    r = client.put('/identity/v3/projects/%s/users/%s/roles/nope' % (pid, uid), headers=h)
    assert r.status_code == 404 and 'role' in r.get_json()['error']['message']


def test_non_admin_is_403(client, demo_token):
    r = client.post('/identity/v3/projects', json={'project': {'name': 'x'}},
                    headers=H(demo_token))
    assert r.status_code == 403 and 'identity:create_project' in r.get_json()['error']['message']


def test_users_see_themselves(client, demo_token):
    me = client.get('/identity/v3/auth/tokens', headers={
        **H(demo_token), 'X-Subject-Token': demo_token}).get_json()['token']['user']['id']
    assert client.get('/identity/v3/users/' + me, headers=H(demo_token)).status_code == 200
    assert client.get('/identity/v3/users', headers=H(demo_token)).status_code == 403


def test_password_change_revokes_old_tokens(client, demo_token):
    me = client.get('/identity/v3/auth/tokens', headers={
        **H(demo_token), 'X-Subject-Token': demo_token}).get_json()['token']['user']['id']
    r = client.post('/identity/v3/users/%s/password' % me, headers=H(demo_token),
                    json={'user': {'password': 'new', 'original_password': 'wrong'}})
    assert r.status_code == 401
    r = client.post('/identity/v3/users/%s/password' % me, headers=H(demo_token),
                    json={'user': {'password': 'new', 'original_password': DEMO_PW}})
    assert r.status_code == 204
    assert client.get('/identity/v3/auth/projects', headers=H(demo_token)).status_code == 401
    issue(client, 'demo', 'new', 'demo')


def test_disabled_project_blocks_tokens(client, admin_token, demo_token):
    h = H(admin_token)
    pid = client.get('/identity/v3/projects?name=demo', headers=h).get_json()['projects'][0]['id']
    client.patch('/identity/v3/projects/' + pid, json={'project': {'enabled': False}}, headers=h)
    assert client.get('/identity/v3/auth/projects', headers=H(demo_token)).status_code == 401
    issue(client, 'demo', DEMO_PW, 'demo', expect=401)


def test_enabled_domain_cannot_be_deleted(client, admin_token):
    h = H(admin_token)
    did = client.post('/identity/v3/domains', json={'domain': {'name': 'd2'}},
                      headers=h).get_json()['domain']['id']
    assert client.delete('/identity/v3/domains/' + did, headers=h).status_code == 403
    client.patch('/identity/v3/domains/' + did, json={'domain': {'enabled': False}}, headers=h)
    assert client.delete('/identity/v3/domains/' + did, headers=h).status_code == 204


def test_unknown_path_is_404_in_keystone_shape(client):
    r = client.get('/identity/v3/nothing-here')
    assert r.status_code == 404 and r.get_json()['error']['code'] == 404


def test_other_apis_use_their_error_shape(client, admin_token):
    r = client.get('/compute/v2.1/os-services/nothing', headers=H(admin_token))
    assert r.status_code == 405 and 'badMethod' in r.get_json()
    r = client.get('/compute/v2.1/nothing', headers=H(admin_token))
    assert r.status_code == 404 and r.get_json()['itemNotFound']['code'] == 404
    r = client.get('/network/v2.0/nothing', headers=H(admin_token))
    assert r.status_code == 404 and r.get_json()['NeutronError']['type'] == 'NotFound'
    r = client.get('/compute/v2.1/os-services', headers={
        **H(admin_token), 'OpenStack-API-Version': 'compute 2.99'})
    assert r.status_code == 406 and 'notAcceptable' in r.get_json()


def test_unexpected_error_is_500_without_detail(client, admin_token, monkeypatch):
    from common import servicegroup

    def boom(**_kw):
        raise RuntimeError('secret internals')
    monkeypatch.setattr(servicegroup, 'list_services', boom)
    r = client.get('/compute/v2.1/os-services', headers=H(admin_token))
    assert r.status_code == 500
    assert 'secret' not in r.get_data(as_text=True)
    assert r.get_json()['computeFault']['code'] == 500
