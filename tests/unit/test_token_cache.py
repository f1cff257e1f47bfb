"""Token validations shared in memcached ([cache]): against a real
memcached of the test's own (devstack/lib/memcached.sh)."""

import pytest
from pymemcache.client import base as mc_base

from common import token_cache
from common.conf import CONF
from tests.fixtures.engines import Memcached


@pytest.fixture
def memcached():
    m = Memcached().up()
    yield m
    m.close()


@pytest.fixture
def shared(conf, memcached):
    CONF.set_override('enabled', True, 'cache')
    CONF.set_override('memcache_servers', [memcached.server], 'cache')
    token_cache._client = None
    yield memcached
    token_cache._client = None
    CONF.clear_override('enabled', 'cache')
    CONF.clear_override('memcache_servers', 'cache')


def _projects(client, token):
    return client.get('/identity/v3/auth/projects', headers={'X-Auth-Token': token})


def _delta(before):
    after = token_cache.counters()
    return {k: after[k] - before[k] for k in after}


def test_second_validation_comes_from_memcached(shared, client, demo_token):
    # Issuing the token validated it (a miss that filled the entry).
    before = token_cache.counters()
    assert _projects(client, demo_token).status_code == 200
    assert _projects(client, demo_token).status_code == 200
    assert _delta(before) == {'shared_hits': 2, 'shared_misses': 0, 'database': 0}
    health = client.get('/healthcheck').get_json()
    assert health['status'] == 'OK' and health['token_validations']['shared_hits'] >= 1


def test_memcached_holds_a_digest_never_the_token(shared, client, demo_token):
    assert _projects(client, demo_token).status_code == 200
    mc = mc_base.Client(('127.0.0.1', shared.port))
    raw = mc.get(token_cache.key(demo_token))
    assert raw and demo_token.encode() not in raw
    assert token_cache.key(demo_token) != demo_token.encode()


def test_revocation_counts_at_once(shared, client, admin_token, demo_token):
    assert _projects(client, demo_token).status_code == 200
    r = client.delete('/identity/v3/auth/tokens',
                      headers={'X-Auth-Token': admin_token, 'X-Subject-Token': demo_token})
    assert r.status_code == 204
    assert _projects(client, demo_token).status_code == 401
    assert _projects(client, admin_token).status_code == 200


def test_an_evicted_generation_is_a_miss_not_a_stale_hit(shared, client, demo_token):
    assert _projects(client, demo_token).status_code == 200
    mc_base.Client(('127.0.0.1', shared.port)).delete(token_cache.GENERATION_KEY)
    before = token_cache.counters()
    assert _projects(client, demo_token).status_code == 200
    assert _delta(before)['shared_misses'] == 1


def test_memcached_down_falls_back_to_the_database(shared, client, demo_token):
    CONF.set_override('socket_timeout', 0.2, 'cache')
    try:
        assert _projects(client, demo_token).status_code == 200
        shared.down()
        before = token_cache.counters()
        for _ in range(3):
            assert _projects(client, demo_token).status_code == 200
        assert _delta(before)['database'] == 3
        shared.up()
        token_cache._client = None
        assert _projects(client, demo_token).status_code == 200
        assert _delta(before)['shared_misses'] + _delta(before)['shared_hits'] == 1
    finally:
        CONF.clear_override('socket_timeout', 'cache')
