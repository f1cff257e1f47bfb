"""Regression (issue 16, isolation matrix): PUT /servers/{id} checked no
policy, so a user with only the reader role could rename the project's
servers; Nova's os_compute_api:servers:update is the member's."""

import uuid

from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue

H = {'OpenStack-API-Version': 'compute 2.61'}


def _server(project_id):
    sid = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=sid, display_name='vm', hostname='vm', project_id=project_id,
                          user_id='u', flavor={'vcpus': 1, 'memory_mb': 64, 'root_gb': 1,
                                               'flavorid': '1'},
                          vcpus=1, memory_mb=64, root_gb=1, vm_state=st.ERROR,
                          image_ref='img', request_spec={}))
    return sid


def test_reader_cannot_rename_a_server(client, admin_token):
    h = {'X-Auth-Token': admin_token}
    demo_tok, demo = issue(client, 'demo', DEMO_PW, 'demo')
    uid = client.post('/identity/v3/users', headers=h, json={'user': {
        'name': 'reed', 'password': 'pw'}}).get_json()['user']['id']
    roles = {r['name']: r['id'] for r in
             client.get('/identity/v3/roles', headers=h).get_json()['roles']}
    project_id = demo['token']['project']['id']
    assert client.put('/identity/v3/projects/%s/users/%s/roles/%s' % (
        project_id, uid, roles['reader']), headers=h).status_code == 204
    reader = dict(H, **{'X-Auth-Token': issue(client, 'reed', 'pw', 'demo')[0]})
    member = dict(H, **{'X-Auth-Token': demo_tok})
    url = '/compute/v2.1/servers/' + _server(project_id)
    body = {'server': {'name': 'renamed'}}
    r = client.put(url, headers=reader, json=body)
    assert r.status_code == 403, r.get_data(as_text=True)
    assert r.get_json()['forbidden']['code'] == 403
    assert client.get(url, headers=reader).get_json()['server']['name'] == 'vm'
    r = client.put(url, headers=member, json=body)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()['server']['name'] == 'renamed'
