"""Server tags (2.26) with Nova's rules: the tags API, tags at create
(2.52), the tags in server views and the tag filters of GET /servers."""

import pytest

from common import instance_states as st
from common.db import instances
from tests.fixtures.nova_api import IMAGE


def _v(version):
    return {'OpenStack-API-Version': 'compute %s' % version}


def _tags(nova, sid, method='GET', body=None, status=200, tag=None, version='2.26'):
    path = '/servers/%s/tags' % sid + ('/' + tag if tag is not None else '')
    return nova(method, path, body, status, version=_v(version))


def test_tags_api(nova, server):
    assert _tags(nova, server).get_json() == {'tags': []}
    r = _tags(nova, server, 'PUT', {'tags': ['a', 'b', 'a']})
    assert r.get_json() == {'tags': ['a', 'b']}
    r = _tags(nova, server, 'PUT', status=201, tag='c')
    assert r.headers['Location'].endswith('/compute/v2.1/servers/%s/tags/c' % server)
    _tags(nova, server, 'PUT', status=204, tag='c')  # already there
    _tags(nova, server, status=204, tag='c')
    _tags(nova, server, status=404, tag='zzz')
    _tags(nova, server, 'DELETE', status=204, tag='a')
    _tags(nova, server, 'DELETE', status=404, tag='a')
    srv = nova('GET', '/servers/' + server, status=200, version=_v('2.26')).get_json()
    assert srv['server']['tags'] == ['b', 'c']
    _tags(nova, server, 'DELETE', status=204)
    assert _tags(nova, server).get_json() == {'tags': []}


def test_not_before_2_26(nova, server):
    _tags(nova, server, status=404, version='2.25')
    _tags(nova, server, 'PUT', status=404, tag='a', version='2.25')


@pytest.mark.parametrize('bad', ['a/b', 'a,b', 'x' * 61])
def test_bad_tags(nova, server, bad):
    _tags(nova, server, 'PUT', {'tags': [bad]}, status=400)
    if '/' not in bad:
        r = _tags(nova, server, 'PUT', status=400, tag=bad)
        assert 'is invalid' in r.get_json()['badRequest']['message']


def test_at_most_50(nova, server):
    _tags(nova, server, 'PUT', {'tags': ['t%d' % i for i in range(51)]}, status=400)
    _tags(nova, server, 'PUT', {'tags': ['t%d' % i for i in range(50)]})
    r = _tags(nova, server, 'PUT', status=400, tag='one-more')
    assert 'per-server limit 50' in r.get_json()['badRequest']['message']


def test_changes_need_a_settled_server(nova, server):
    instances.update(server, {'vm_state': st.ERROR})
    _tags(nova, server, 'PUT', {'tags': ['a']}, status=409)
    _tags(nova, server, 'PUT', status=409, tag='a')
    _tags(nova, server)  # reading is fine


def test_tags_at_create_and_filters(nova):
    def create(name, tags, version='2.52', status=202):
        body = {'server': {'name': name, 'imageRef': IMAGE['id'], 'flavorRef': '1',
                           'networks': 'none', 'tags': tags}}
        return nova('POST', '/servers', body, status, version=_v(version))
    create('early', ['x'], version='2.51', status=400)
    create('red', ['red', 'big'])
    create('blue', ['blue', 'big'])
    create('plain', [])

    def names(query):
        r = nova('GET', '/servers?' + query, status=200, version=_v('2.26'))
        return sorted(s['name'] for s in r.get_json()['servers'])
    assert names('tags=red,big') == ['red']
    assert names('tags-any=red,blue') == ['blue', 'red']
    assert names('not-tags=red,big') == ['blue', 'plain']
    assert names('not-tags-any=big') == ['plain']
    assert names('tags=big&not-tags-any=blue') == ['red']
