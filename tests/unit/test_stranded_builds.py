"""A build request lost with the process that held it (the faults tier's
kill -9 of the API or the scheduler in a boot burst left servers in BUILD
for ever): the conductor finds servers waiting in scheduling past
[scheduler] stranded_build_timeout and asks a scheduler again, once; a
late original request then does nothing, and two requests for one server
place it once, with one claim."""


import pytest
import sqlalchemy as sa

from common import instance_states as st
from common.context import get_admin_context
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from conductor import stranded_builds
from scheduler import build
from scheduler import claims
from scheduler import manager as scheduler_manager
from tests.fixtures.scheduler_nodes import add_host
from tests.fixtures.scheduler_nodes import record_builds
from tests.fixtures.scheduler_nodes import waiting_server

CTX = get_admin_context()

pytestmark = pytest.mark.usefixtures('no_cache_thread')




class Scheduler:
    """The schedulers' RPC client: the build runs here at once."""
    def __init__(self):
        self.cast = []

    def build_instances(self, context, uuids):
        self.cast.append(list(uuids))
        scheduler_manager.SchedulerManager().build_instances(context, uuids)


@pytest.fixture
def cloud(fast, monkeypatch):
    casts = record_builds(monkeypatch)
    add_host('a')
    return casts




def used():
    with db_api.reader() as s:
        return s.scalars(sa.select(cm.ComputeNode.vcpus_used)).one()


def test_a_server_whose_request_was_lost_is_built_after_the_timeout(cloud):
    fresh, lost = waiting_server(age_s=5), waiting_server(age_s=120)
    sched = Scheduler()
    assert stranded_builds.redrive(CTX, sched) == [lost]
    assert sched.cast == [[lost]] and cloud == [('a', lost)]
    assert instances.get(lost).host == 'a' and instances.get(fresh).host is None
    assert used() == 1
    # Placed now (its updated_at is new): not taken again.
    assert stranded_builds.redrive(CTX, Scheduler()) == []


def test_a_placed_server_never_handed_over_is_placed_again(cloud):
    sid = waiting_server(age_s=120, host='a')
    assert claims.claim(claims.node_for_host('a').id, sid,
                        {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    assert stranded_builds.redrive(CTX, Scheduler()) == [sid]
    assert cloud == [('a', sid)] and used() == 1  # its old claim given back
    assert len(claims.held(sid)) == 1


def test_a_claim_of_a_request_killed_before_it_placed_the_server_is_given_back(cloud):
    sid = waiting_server(age_s=120)
    assert claims.claim(claims.node_for_host('a').id, sid,
                        {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    assert stranded_builds.redrive(CTX, Scheduler()) == [sid]
    assert cloud == [('a', sid)] and used() == 1 and len(claims.held(sid)) == 1


def test_a_placed_server_whose_agent_is_down_waits_for_its_reconcile(cloud):
    add_host('b', up=False)
    waiting_server(age_s=120, host='b')
    assert stranded_builds.redrive(CTX, Scheduler()) == []


def test_off_with_a_zero_timeout(cloud, conf):
    conf.set_override('stranded_build_timeout', 0, 'scheduler')
    try:
        waiting_server(age_s=1000)
        assert stranded_builds.redrive(CTX, Scheduler()) == []
    finally:
        conf.clear_override('stranded_build_timeout', 'scheduler')


def test_a_late_original_request_does_nothing(cloud):
    sid = waiting_server()
    manager = scheduler_manager.SchedulerManager()
    manager.build_instances(CTX, [sid])
    manager.build_instances(CTX, [sid])  # the first request, late
    assert cloud == [('a', sid)] and used() == 1


def test_a_second_request_that_claimed_elsewhere_gives_back_only_its_own(cloud, monkeypatch):
    """Two requests for one server raced: the other placed it on b while
    this one claimed a; this one's claim goes, the other's stays."""
    add_host('b')
    sid = waiting_server()
    b = claims.node_for_host('b').id
    real = build.select_and_claim

    def racing(uuid, spec):
        host, why = real(uuid, spec)
        assert claims.claim(b, uuid, {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
        instances.update(uuid, {'host': 'b'})
        return host, why
    monkeypatch.setattr(build, 'select_and_claim', racing)
    scheduler_manager.SchedulerManager().build_instances(CTX, [sid])
    assert cloud == [] and list(claims.held(sid)) == [b]
    inst = instances.get(sid)
    assert (inst.vm_state, inst.host) == (st.BUILDING, 'b')
