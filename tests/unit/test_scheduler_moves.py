"""Where a moving server goes (scheduler.moves): never its own host unless
allowed, only the requested host when one is named, the claim under the
migration's uuid, and a reason that names each host's problem."""

import uuid

import pytest

from common import instance_states as st
from common.context import get_admin_context
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from scheduler import build
from scheduler import claims
from scheduler import moves
from tests.fixtures.scheduler_nodes import add_host

CTX = get_admin_context()
TINY = {'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'flavorid': '1'}


pytestmark = pytest.mark.usefixtures('no_cache_thread')


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


def test_an_admin_names_the_host_of_a_new_server(nova):
    from tests.fixtures.nova_api import IMAGE
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none', 'availability_zone': 'nova:h2'}}
    r = nova('POST', '/servers', body, 403)
    assert 'forced_host' in r.get_data(as_text=True)
    sid = nova('POST', '/servers', body, 202, who='admin').get_json()['server']['id']
    spec = instances.get(sid).request_spec
    assert spec['requested_host'] == 'h2' and spec['availability_zone'] is None
    body['server']['availability_zone'] = 'nope:h2'
    nova('POST', '/servers', body, 400, who='admin')


def test_build_goes_only_to_the_requested_host(db):
    add_host('a')
    add_host('b', memory_mb=256)
    host, why = build.select_and_claim(str(uuid.uuid4()), {
        'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1, 'requested_host': 'b'})
    assert host is None and why.startswith('RamFilter removed 1 of 1 host: b has')
