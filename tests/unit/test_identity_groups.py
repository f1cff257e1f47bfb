"""Keystone groups through Flask's test client: CRUD, membership, group
role grants, their effect on tokens, and the role assignment listing."""

import pytest

from tests.fixtures.identity import issue

V3 = '/identity/v3'


def H(token):
    return {'X-Auth-Token': token}


class Admin:
    def __init__(self, client, token):
        self.client, self.h = client, H(token)

    def call(self, method, path, status, **kw):
        r = self.client.open(V3 + path, method=method, headers=self.h, **kw)
        assert r.status_code == status, (method, path, r.get_data(as_text=True))
        return r.get_json(silent=True)

    def one(self, kind, name):
        return self.call('GET', '/%ss?name=%s' % (kind, name), 200)['%ss' % kind][0]['id']


@pytest.fixture
def adm(client, admin_token):
    return Admin(client, admin_token)


@pytest.fixture
def world(adm):
    """A group 'staff', a user 'carol' (no roles), project demo, role member."""
    gid = adm.call('POST', '/groups', 201, json={'group': {'name': 'staff',
                                                          'description': 'd'}})['group']['id']
    uid = adm.call('POST', '/users', 201, json={'user': {'name': 'carol',
                                                        'password': 'c'}})['user']['id']
    return {'g': gid, 'u': uid, 'p': adm.one('project', 'demo'),
            'r': adm.one('role', 'member')}


def test_group_crud_in_keystone_shape(adm):
    g = adm.call('POST', '/groups', 201, json={'group': {'name': 'ops'}})['group']
    assert set(g) == {'id', 'name', 'domain_id', 'description', 'links'}
    assert g['domain_id'] == 'default' and g['links']['self'].endswith('/groups/' + g['id'])
    err = adm.call('POST', '/groups', 409, json={'group': {'name': 'ops'}})
    assert err['error']['code'] == 409 and 'ops' in err['error']['message']
    adm.call('POST', '/groups', 400, json={'group': {'name': 'x', 'colour': 1}})
    adm.call('POST', '/groups', 404, json={'group': {'name': 'x', 'domain_id': 'nowhere'}})
    assert [x['id'] for x in adm.call('GET', '/groups?name=ops', 200)['groups']] == [g['id']]
    assert adm.call('GET', '/groups?domain_id=nowhere', 200)['groups'] == []
    got = adm.call('PATCH', '/groups/' + g['id'], 200,
                   json={'group': {'description': 'new', 'name': 'ops2'}})['group']
    assert got['description'] == 'new' and got['name'] == 'ops2'
    assert adm.call('GET', '/groups/' + g['id'], 200)['group']['name'] == 'ops2'
    err = adm.call('GET', '/groups/nope', 404)
    assert err['error']['message'] == 'Could not find group: nope.'
    adm.call('DELETE', '/groups/' + g['id'], 204)
    adm.call('DELETE', '/groups/' + g['id'], 404)


def test_membership(adm, world):
    g, u = world['g'], world['u']
    member = '/groups/%s/users/%s' % (g, u)
    adm.call('HEAD', member, 404)
    adm.call('PUT', member, 204)
    adm.call('PUT', member, 204)  # idempotent
    adm.call('HEAD', member, 204)
    users = adm.call('GET', '/groups/%s/users' % g, 200)['users']
    assert [x['name'] for x in users] == ['carol']
    groups = adm.call('GET', '/users/%s/groups' % u, 200)['groups']
    assert [(x['id'], x['name']) for x in groups] == [(g, 'staff')]
    adm.call('PUT', '/groups/%s/users/nope' % g, 404)
    adm.call('PUT', '/groups/nope/users/%s' % u, 404)
    adm.call('DELETE', member, 204)
    adm.call('DELETE', member, 404)
    assert adm.call('GET', '/users/%s/groups' % u, 200)['groups'] == []


def test_policy_admin_or_self(client, adm, world, demo_token):
    demo = Admin(client, demo_token)
    demo.call('POST', '/groups', 403, json={'group': {'name': 'x'}})
    demo.call('GET', '/groups', 403)
    demo.call('PUT', '/groups/%s/users/%s' % (world['g'], world['u']), 403)
    demo.call('GET', '/users/%s/groups' % world['u'], 403)
    me = client.get(V3 + '/auth/tokens', headers={**H(demo_token),
                                                  'X-Subject-Token': demo_token}
                    ).get_json()['token']['user']['id']
    assert demo.call('GET', '/users/%s/groups' % me, 200)['groups'] == []


def test_group_role_reaches_the_members_token(client, adm, world):
    g, u, p, r = world['g'], world['u'], world['p'], world['r']
    issue(client, 'carol', 'c', 'demo', expect=401)  # no role yet
    grant = '/projects/%s/groups/%s/roles/%s' % (p, g, r)
    adm.call('HEAD', grant, 404)
    adm.call('PUT', grant, 204)
    adm.call('HEAD', grant, 204)
    assert [x['id'] for x in adm.call('GET', '/projects/%s/groups/%s/roles' % (p, g),
                                      200)['roles']] == [r]
    issue(client, 'carol', 'c', 'demo', expect=401)  # not a member yet
    adm.call('PUT', '/groups/%s/users/%s' % (g, u), 204)
    tok, body = issue(client, 'carol', 'c', 'demo')
    assert {x['name'] for x in body['token']['roles']} == {'member', 'reader'}
    projects = client.get(V3 + '/auth/projects', headers=H(tok)).get_json()['projects']
    assert [x['name'] for x in projects] == ['demo']
    # leaving the group revokes on the next validation
    adm.call('DELETE', '/groups/%s/users/%s' % (g, u), 204)
    assert client.get(V3 + '/auth/projects', headers=H(tok)).status_code == 401
    adm.call('PUT', '/groups/%s/users/%s' % (g, u), 204)
    tok, _ = issue(client, 'carol', 'c', 'demo')
    adm.call('DELETE', grant, 204)
    assert client.get(V3 + '/auth/projects', headers=H(tok)).status_code == 401
    adm.call('DELETE', grant, 404)


def test_domain_grant_to_a_group(client, adm, world):
    g, u, r = world['g'], world['u'], world['r']
    adm.call('PUT', '/groups/%s/users/%s' % (g, u), 204)
    adm.call('PUT', '/domains/default/groups/%s/roles/%s' % (g, r), 204)
    adm.call('HEAD', '/domains/default/groups/%s/roles/%s' % (g, r), 204)
    resp = client.post(V3 + '/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'carol', 'domain': {'id': 'default'}, 'password': 'c'}}},
        'scope': {'domain': {'id': 'default'}}}})
    assert resp.status_code == 201
    assert 'member' in {x['name'] for x in resp.get_json()['token']['roles']}
    doms = client.get(V3 + '/auth/domains', headers=H(resp.headers['X-Subject-Token']))
    assert [d['id'] for d in doms.get_json()['domains']] == ['default']


def test_role_assignments_with_groups(adm, world):
    g, u, p, r = world['g'], world['u'], world['p'], world['r']
    adm.call('PUT', '/groups/%s/users/%s' % (g, u), 204)
    adm.call('PUT', '/projects/%s/groups/%s/roles/%s' % (p, g, r), 204)
    (a,) = adm.call('GET', '/role_assignments?group.id=' + g, 200)['role_assignments']
    assert a['group'] == {'id': g} and 'user' not in a
    assert a['scope'] == {'project': {'id': p}} and a['role'] == {'id': r}
    assert a['links']['assignment'].endswith('/projects/%s/groups/%s/roles/%s' % (p, g, r))
    # not effective: carol herself has nothing
    assert adm.call('GET', '/role_assignments?user.id=' + u, 200)['role_assignments'] == []
    eff = adm.call('GET', '/role_assignments?effective&user.id=%s&include_names=true' % u,
                   200)['role_assignments']
    assert {(x['role']['name'], x['scope']['project']['name']) for x in eff} == \
        {('member', 'demo'), ('reader', 'demo')}
    direct = next(x for x in eff if x['role']['id'] == r)
    assert direct['user']['name'] == 'carol' and 'group' not in direct
    assert direct['links']['membership'].endswith('/groups/%s/users/%s' % (g, u))
    assert direct['links']['assignment'].endswith('/projects/%s/groups/%s/roles/%s'
                                                  % (p, g, r))
    named = adm.call('GET', '/role_assignments?group.id=%s&include_names=1' % g,
                     200)['role_assignments'][0]
    assert named['group']['name'] == 'staff' and named['group']['domain']['id'] == 'default'
    scoped = adm.call('GET', '/role_assignments?scope.project.id=%s&effective=1' % p,
                      200)['role_assignments']
    assert not [x for x in scoped if 'group' in x]
    assert u in {x['user']['id'] for x in scoped}
    err = adm.call('GET', '/role_assignments?effective&group.id=' + g, 400)
    assert 'effective' in err['error']['message']


def test_deleting_a_group_drops_grants_and_memberships(client, adm, world):
    g, u, p, r = world['g'], world['u'], world['p'], world['r']
    adm.call('PUT', '/groups/%s/users/%s' % (g, u), 204)
    adm.call('PUT', '/projects/%s/groups/%s/roles/%s' % (p, g, r), 204)
    tok, _ = issue(client, 'carol', 'c', 'demo')
    adm.call('DELETE', '/groups/' + g, 204)
    assert client.get(V3 + '/auth/projects', headers=H(tok)).status_code == 401
    assert adm.call('GET', '/role_assignments?scope.project.id=' + p, 200)[
        'role_assignments'] and not [
        x for x in adm.call('GET', '/role_assignments', 200)['role_assignments']
        if x.get('group')]
    assert adm.call('GET', '/users/%s/groups' % u, 200)['groups'] == []
    # a deleted user leaves its groups too
    g2 = adm.call('POST', '/groups', 201, json={'group': {'name': 'g2'}})['group']['id']
    adm.call('PUT', '/groups/%s/users/%s' % (g2, u), 204)
    adm.call('DELETE', '/users/' + u, 204)
    assert adm.call('GET', '/groups/%s/users' % g2, 200)['users'] == []
