"""Where a moving server goes (scheduler.moves): never its own host unless
allowed, only the requested host when one is named, the claim under the
migration's uuid, and a reason that names each host's problem."""

import uuid

import pytest

from common import instance_states as st
from common.context import get_admin_context
from common.db import api as db_api
from common.db import claims
from common.db import compute_models as cm
from scheduler import host_cache
from scheduler import moves
from tests.unit.test_scheduler import add_host

CTX = get_admin_context()
TINY = {'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'flavorid': '1'}


@pytest.fixture(autouse=True)
def _no_cache_thread(monkeypatch):
    monkeypatch.setattr(host_cache, 'BACKGROUND', False)
    host_cache.reset()
    yield
    host_cache.reset()


def server(host='a'):
    sid = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=sid, display_name='vm', hostname='vm', project_id='p',
                          user_id='u', flavor=dict(TINY), vcpus=1, memory_mb=512, root_gb=1,
                          vm_state=st.ACTIVE, host=host, node=host, image_ref='img',
                          request_spec={'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1,
                                        'tried_hosts': ['x']}))
    assert claims.claim(claims.node_for_host(host).id, sid,
                        {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    return sid


def test_never_the_own_host_and_the_claim_is_the_migrations(db):
    add_host('a')
    add_host('b')
    sid = server('a')
    mig = str(uuid.uuid4())
    assert moves.select_destination(CTX, sid, mig, TINY) == {'host': 'b', 'node': 'b'}
    node_b = claims.node_for_host('b').id
    assert claims.held(mig) == {node_b: {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}}
    assert list(claims.held(sid)) == [claims.node_for_host('a').id]


def test_the_own_host_when_allowed(db):
    add_host('a')
    sid = server('a')
    got = moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY, allow_same_host=True)
    assert got['host'] == 'a'


def test_no_other_host_says_why(db):
    add_host('a')
    add_host('b', memory_mb=256)
    add_host('c', up=False)
    sid = server('a')
    got = moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY)
    assert got['host'] is None
    assert got['reason'].startswith('No valid host was found.')
    assert "a is the server's own host" in got['reason']
    assert 'c is down' in got['reason']
    assert 'b has 256 MB free, needs 512' in got['reason']


def test_a_requested_host_and_only_that_one(db):
    add_host('a')
    add_host('b')
    add_host('c', memory_mb=256)
    sid = server('a')
    assert moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY,
                                    requested_host='b')['host'] == 'b'
    got = moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY, requested_host='c')
    assert got['host'] is None and 'c has 256 MB free' in got['reason']
    assert 'b' not in got['reason'].split('found.')[1]
    got = moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY, requested_host='zz')
    assert got == {'host': None, 'reason': 'No valid host was found. Compute host zz is '
                   'not known to the scheduler.'}
    got = moves.select_destination(CTX, sid, str(uuid.uuid4()), TINY, requested_host='a')
    assert got['host'] is None and "own host" in got['reason']
