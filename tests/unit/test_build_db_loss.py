"""A build survives the database losing a transaction (the Galera writer
killed mid-burst): the scheduler places the server again instead of
setting it to ERROR, gives back a claim an earlier try committed (none
leaked, none twice), and casts the build once; an agent's state report
whose commit was lost with the connection is taken as applied. SQLite,
with the lost transactions injected."""


import pytest
from sqlalchemy import exc as sa_exc

from common import exception
from common import instance_states as st
from common import rpc
from common import unit_of_work
from common.context import get_admin_context
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from conductor import records
from scheduler import build
from scheduler import claims
from scheduler import manager as scheduler_manager
from tests.fixtures.scheduler_nodes import add_host
from tests.fixtures.scheduler_nodes import record_builds
from tests.fixtures.scheduler_nodes import waiting_server

CTX = get_admin_context()

pytestmark = pytest.mark.usefixtures('no_cache_thread')




@pytest.fixture
def cloud(fast, monkeypatch):
    casts = record_builds(monkeypatch)
    add_host('a')
    return casts


class _MySQLError(Exception):
    pass




def used():
    with db_api.reader() as s:
        node = s.query(cm.ComputeNode).filter_by(host='a').one()
        return node.vcpus_used, node.memory_mb_used


def lost_once(monkeypatch, module, name, after_commit=True):
    """``module.name`` loses its connection once: after its transaction
    committed (the client cannot tell) or before."""
    real = getattr(module, name)
    left = [1]

    def fn(*a, **kw):
        if left[0] and not after_commit:
            left[0] = 0
            raise exception.DBConnectionError()
        unit = unit_of_work.current()
        done = unit.done if unit else None
        out = real(*a, **kw)
        if left[0]:
            left[0] = 0
            if unit:
                unit.done = done  # the client never heard of the commit
            raise exception.DBConnectionError()
        return out
    monkeypatch.setattr(module, name, fn)
    return left


def build_one(sid):
    scheduler_manager.SchedulerManager().build_instances(CTX, [sid])


@pytest.mark.parametrize('module,name', [
    (build.claims, 'claim'),        # the claim committed, its answer lost
    (build.instances, 'update'),    # the placement committed after the claim
    (build.ports, 'bind_instance_ports'),
])
def test_a_write_lost_after_it_committed_places_again(cloud, monkeypatch, module, name):
    sid = waiting_server()
    left = lost_once(monkeypatch, module, name)
    build_one(sid)
    assert left == [0]
    inst = instances.get(sid)
    assert (inst.vm_state, inst.task_state, inst.host) == (st.BUILDING, st.SCHEDULING, 'a')
    assert cloud == [('a', sid)]  # cast once
    assert len(claims.held(sid)) == 1 and used() == (1, 512)  # one claim, none leaked


def test_a_transaction_lost_before_it_committed_places_again(cloud, monkeypatch):
    sid = waiting_server()
    left = lost_once(monkeypatch, build.claims, 'claim', after_commit=False)
    build_one(sid)
    assert left == [0] and cloud == [('a', sid)] and used() == (1, 512)
    assert instances.get(sid).vm_state == st.BUILDING


def test_a_lost_database_after_the_cast_does_not_build_twice(cloud, monkeypatch):
    sid = waiting_server()

    def refresh(ctx, hosts):
        raise exception.DBConnectionError()
    monkeypatch.setattr(build.notify, 'refresh_hosts', refresh)
    monkeypatch.setattr(build.netstate, 'hosts_for_instance', lambda uuid: {'b'})
    build_one(sid)
    assert cloud == [('a', sid)]
    assert instances.get(sid).vm_state == st.BUILDING and used() == (1, 512)


def test_a_database_that_stays_away_ends_the_build(cloud, monkeypatch):
    sid = waiting_server()
    calls = []

    def claim(*a, **kw):
        calls.append(1)
        raise exception.DBConnectionError()
    monkeypatch.setattr(build.claims, 'claim', claim)
    build_one(sid)
    assert len(calls) == 4  # the first try and db_max_retries = 3
    inst = instances.get(sid)
    assert inst.vm_state == st.ERROR and 'database' in inst.fault['message']
    assert cloud == [] and used() == (0, 0)


def test_a_core_transaction_lost_raises_retryable_and_is_noted(fast):
    add_host('a')
    node = claims.node_for_host('a').id
    with pytest.raises(exception.DBConnectionError), db_api.connection() as conn:
        conn.execute(claims._ALLOCATE, {'consumer_uuid': 'c1', 'node_id': node, 'vcpus': 1,
                                        'memory_mb': 1, 'disk_gb': 1})
        raise sa_exc.OperationalError('COMMIT', {}, _MySQLError(
            2013, 'Lost connection to MySQL server during query'))
    assert claims.held('c1') == {}

    def claim_then_fail():
        assert claims.claim(node, 'c2', {'vcpus': 1, 'memory_mb': 1, 'disk_gb': 1})
        return unit_of_work.current().done
    assert unit_of_work.run('test', claim_then_fail) == 'a committed write'


def test_a_part_runs_again_after_a_write_but_not_after_a_message(fast):
    tries = []

    def part(send):
        tries.append(unit_of_work.rerun())
        unit_of_work.note_committed_write()
        if send:
            rpc.ContextSerializer().serialize_context(CTX)
        if len(tries) == 1:
            raise exception.DBDeadlock()
        return 'done'

    def unit(send):
        out = unit_of_work.run_part('part', part, send)
        return out, unit_of_work.current().done

    assert unit_of_work.run('unit', unit, False) == ('done', 'a committed write')
    assert tries == [False, True]
    tries.clear()
    with pytest.raises(exception.DBDeadlock):
        unit_of_work.run('unit', unit, True)
    assert tries == [False]


def test_an_agent_update_whose_commit_was_lost_is_applied(fast, monkeypatch):
    """The conductor's unit runs again after the connection died under a
    commit that went through: the agent hears its update went (not that
    the server changed, which would cancel its build)."""
    add_host('a')
    sid = waiting_server()
    lost_once(monkeypatch, records.instances, 'update')

    def report(values, expected):
        return unit_of_work.run('RPC instance_update', records.instance_update, CTX, sid,
                                values, expected)

    got = report({'task_state': st.SPAWNING}, [st.SCHEDULING])
    assert got is not None and got['task_state'] == st.SPAWNING
    # Not on a first try: a server that changed still refuses.
    assert report({'task_state': st.SPAWNING}, [st.SCHEDULING]) is None


class _SerializingClient:
    """An RPC client that serializes the context as the real one does
    (which is what notes a message sent)."""

    def can_send_version(self, version):
        return True

    def prepare(self, version):
        class Prepared:
            def call(self, context, method, **kwargs):
                rpc.ContextSerializer().serialize_context(context)
                return {'id': kwargs.get('image_id')}
        return Prepared()


def test_asking_the_image_service_does_not_stop_a_rerun(fast, monkeypatch):
    """A server create asks the image service for the image before it
    writes: a lost transaction after that still runs the request again (a
    call that only reads); a message that acts still stops it."""
    from imagestore import rpcapi as image_rpcapi
    monkeypatch.setattr(image_rpcapi.rpc, 'get_client', lambda topic, version:
                        _SerializingClient())
    tries = []

    def create(then_send):
        tries.append(1)
        image_rpcapi.ImageAPI().get_image_for_download(CTX, 'img')
        if then_send:
            rpc.ContextSerializer().serialize_context(CTX)
        if len(tries) == 1:
            raise exception.DBConnectionError()
        return 'made'

    assert unit_of_work.run('POST /servers', create, False) == 'made'
    assert len(tries) == 2
    tries.clear()
    with pytest.raises(exception.DBConnectionError):
        unit_of_work.run('POST /servers', create, True)
    assert len(tries) == 1


def test_making_missing_quota_rows_does_not_stop_a_rerun(fast):
    """A project's first server makes its quota usage rows before its own
    transaction: that transaction lost, the request still runs again."""
    from common import quota
    tries = []

    def create():
        tries.append(1)
        quota.prepare('p-new')
        if len(tries) == 1:
            raise exception.DBConnectionError()
        return unit_of_work.current().done

    assert unit_of_work.run('POST /servers', create) is None
    assert len(tries) == 2
