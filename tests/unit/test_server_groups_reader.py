"""Regression (issue 16, isolation matrix): a user with only the reader role
could create and delete the project's server groups; Nova lets members
write them and readers only read them."""

from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue

H = {'OpenStack-API-Version': 'compute 2.61'}


def _reader(client, admin_token):
    h = {'X-Auth-Token': admin_token}
    uid = client.post('/identity/v3/users', headers=h, json={'user': {
        'name': 'reed', 'password': 'pw'}}).get_json()['user']['id']
    roles = {r['name']: r['id'] for r in
             client.get('/identity/v3/roles', headers=h).get_json()['roles']}
    demo = client.get('/identity/v3/projects?name=demo', headers=h).get_json()['projects'][0]
    r = client.put('/identity/v3/projects/%s/users/%s/roles/%s' % (demo['id'], uid,
                                                                  roles['reader']), headers=h)
    assert r.status_code == 204
    return issue(client, 'reed', 'pw', 'demo')[0]


def test_reader_reads_but_cannot_write_server_groups(client, admin_token):
    member = dict(H, **{'X-Auth-Token': issue(client, 'demo', DEMO_PW, 'demo')[0]})
    reader = dict(H, **{'X-Auth-Token': _reader(client, admin_token)})
    body = {'server_group': {'name': 'g', 'policies': ['anti-affinity']}}
    r = client.post('/compute/v2.1/os-server-groups', headers=reader, json=body)
    assert r.status_code == 403, r.get_data(as_text=True)
    assert r.get_json()['forbidden']['code'] == 403
    group = client.post('/compute/v2.1/os-server-groups', headers=member,
                        json=body).get_json()['server_group']
    url = '/compute/v2.1/os-server-groups/' + group['id']
    assert client.get(url, headers=reader).status_code == 200
    assert client.delete(url, headers=reader).status_code == 403
    assert client.delete(url, headers=member).status_code == 204
