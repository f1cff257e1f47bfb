"""/servers/{id}/metadata with Nova's rules: list, replace, merge, one item
get/set/delete, key and value limits, the metadata_items quota (403), the
state and lock checks (409), who may (owner or admin)."""

import pytest

from common import instance_states as st
from common import quota
from common.db import instances


def _md(nova, sid, method='GET', body=None, status=200, key=None, who='demo'):
    path = '/servers/%s/metadata' % sid + ('/' + key if key is not None else '')
    return nova(method, path, body, status, who=who)


def test_replace_merge_and_items(nova, server):
    assert _md(nova, server).get_json() == {'metadata': {}}
    r = _md(nova, server, 'PUT', {'metadata': {'a': '1', 'b': '2'}})
    assert r.get_json() == {'metadata': {'a': '1', 'b': '2'}}
    r = _md(nova, server, 'POST', {'metadata': {'b': 'two', 'c': '3'}})
    assert r.get_json() == {'metadata': {'a': '1', 'b': 'two', 'c': '3'}}
    r = _md(nova, server, 'PUT', {'metadata': {'c': 'x'}})
    assert r.get_json() == {'metadata': {'c': 'x'}}
    assert _md(nova, server, key='c').get_json() == {'meta': {'c': 'x'}}
    r = _md(nova, server, 'PUT', {'meta': {'d e:f.g-h_i': 'v'}}, key='d e:f.g-h_i')
    assert r.get_json() == {'meta': {'d e:f.g-h_i': 'v'}}
    _md(nova, server, 'DELETE', status=204, key='c')
    srv = nova('GET', '/servers/' + server, status=200).get_json()['server']
    assert srv['metadata'] == {'d e:f.g-h_i': 'v'}


def test_missing_item_is_404(nova, server):
    r = _md(nova, server, key='nope', status=404)
    assert r.get_json()['itemNotFound']['message'] == 'Metadata item was not found'
    _md(nova, server, 'DELETE', key='nope', status=404)
    _md(nova, '00000000-0000-4000-8000-000000000000', status=404)


@pytest.mark.parametrize('body', [
    {'meta': {'a': '1', 'b': '2'}},      # exactly one item
    {'meta': {}},
    {'meta': {'k': 'x' * 256}},          # values up to 255
    {'metadata': {'k': 'v'}},
])
def test_one_item_bodies(nova, server, body):
    _md(nova, server, 'PUT', body, key='k', status=400)


def test_uri_and_body_must_match(nova, server):
    r = _md(nova, server, 'PUT', {'meta': {'other': 'v'}}, key='k', status=400)
    assert r.get_json()['badRequest']['message'] == 'Request body and URI mismatch'


@pytest.mark.parametrize('metadata', [{'': 'v'}, {'k' * 256: 'v'}, {'a/b': 'v'},
                                      {'k': 1}, {'k': None}])
def test_bad_keys_and_values(nova, server, metadata):
    _md(nova, server, 'POST', {'metadata': metadata}, status=400)
    _md(nova, server, 'PUT', {'metadata': metadata}, status=400)


def test_quota_is_403(nova, server):
    quota.set_limits(instances.get(server).project_id, {'metadata_items': 2})
    _md(nova, server, 'PUT', {'metadata': {'a': '1', 'b': '2'}})
    r = _md(nova, server, 'POST', {'metadata': {'c': '3'}}, status=403)
    assert r.get_json()['forbidden']['message'] == \
        'Maximum number of metadata items exceeds 2'
    _md(nova, server, 'PUT', {'meta': {'c': '3'}}, key='c', status=403)
    _md(nova, server, 'PUT', {'meta': {'a': 'new'}}, key='a')  # a change, not one more
    assert _md(nova, server).get_json()['metadata'] == {'a': 'new', 'b': '2'}


def test_create_and_rebuild_check_the_quota(nova, server):
    from tests.fixtures.nova_api import IMAGE
    quota.set_limits(instances.get(server).project_id, {'metadata_items': 1})
    body = {'server': {'name': 'vm2', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none', 'metadata': {'a': '1', 'b': '2'}}}
    nova('POST', '/servers', body, 403)
    nova('POST', '/servers/%s/action' % server,
         {'rebuild': {'imageRef': IMAGE['id'], 'metadata': {'a': '1', 'b': '2'}}}, 403)


@pytest.mark.parametrize('vm_state,task_state,ok', [
    (st.ACTIVE, None, True), (st.STOPPED, None, True), (st.PAUSED, None, True),
    (st.SUSPENDED, None, True), (st.BUILDING, st.SCHEDULING, False),
    (st.ERROR, None, False), (st.RESIZED, None, False), (st.ACTIVE, st.REBOOTING, False)])
def test_states_nova_allows(nova, server, vm_state, task_state, ok):
    instances.update(server, {'vm_state': vm_state, 'task_state': task_state,
                              'meta': {'k': 'old'}})
    status = 200 if ok else 409
    _md(nova, server, 'POST', {'metadata': {'k': 'v'}}, status=status)
    _md(nova, server, 'DELETE', key='k', status=204 if ok else 409)
    _md(nova, server)  # reading is always fine


def test_locked_is_409_except_for_admins(nova, server):
    nova('POST', '/servers/%s/action' % server, {'lock': None}, 202, who='admin')
    r = _md(nova, server, 'POST', {'metadata': {'k': 'v'}}, status=409)
    assert 'is locked' in r.get_json()['conflictingRequest']['message']
    _md(nova, server, 'POST', {'metadata': {'k': 'v'}}, who='admin')
    _md(nova, server, 'DELETE', key='k', status=409)


def test_an_admin_may_too(nova, server):
    _md(nova, server, 'PUT', {'metadata': {'k': 'v'}}, who='admin')
    assert _md(nova, server, who='admin').get_json() == {'metadata': {'k': 'v'}}


def test_another_projects_server_is_404(nova, server):
    instances.update(server, {'project_id': 'someone-else'})
    _md(nova, server, status=404)
    _md(nova, server, 'POST', {'metadata': {'k': 'v'}}, status=404)
