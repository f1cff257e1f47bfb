"""Regression (issue 16, isolation matrix): PUT /v2.0/<collection>/<id>/tags/<tag>
answered 201 to a user with only the reader role when the tag was already
there (the policy was checked only when something changed), and DELETE of a
missing tag told a reader 404; both are 403 now, before any tag is looked at."""

import pytest

from tests.fixtures.identity import issue
from tests.fixtures.network_api import casts  # noqa: F401

pytestmark = pytest.mark.usefixtures('casts')


def test_a_reader_cannot_add_or_remove_a_tag(client, admin_token, demo):
    h = {'X-Auth-Token': admin_token}
    uid = client.post('/identity/v3/users', headers=h, json={'user': {
        'name': 'reed', 'password': 'pw'}}).get_json()['user']['id']
    roles = {r['name']: r['id'] for r in
             client.get('/identity/v3/roles', headers=h).get_json()['roles']}
    assert client.put('/identity/v3/projects/%s/users/%s/roles/%s' % (
        demo.project_id, uid, roles['reader']), headers=h).status_code == 204
    reader = {'X-Auth-Token': issue(client, 'reed', 'pw', 'demo')[0]}
    member = {'X-Auth-Token': demo.token}
    net = demo.network('tagged')
    url = '/network/v2.0/networks/%s/tags/' % net['id']
    assert client.put(url + 'red', headers=member).status_code == 201
    for method, tag in (('PUT', 'red'), ('PUT', 'blue'), ('DELETE', 'red'),
                        ('DELETE', 'green')):
        r = client.open(url + tag, method=method, headers=reader)
        assert r.status_code == 403, (method, tag, r.get_data(as_text=True))
        assert r.get_json()['NeutronError']['type'] == 'PolicyNotAuthorized'
    r = client.post(url.rstrip('/'), headers=reader, json={'tags': ['red']})
    assert r.status_code == 403
    assert client.get(url.rstrip('/'), headers=reader).get_json()['tags'] == ['red']
    assert client.delete(url + 'green', headers=member).status_code == 404
