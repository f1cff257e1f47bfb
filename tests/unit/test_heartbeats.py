"""The scheduler's handling of the compute agents' heartbeats and resource
reports (issue 15, scale): heartbeats are kept in memory and written
together, one UPDATE per second they were sent in; a resource report that
changes nothing is one compare-and-set UPDATE."""

import datetime

import pytest
import sqlalchemy as sa

from common import servicegroup
from common.db import api as db_api
from common.db import models
from scheduler import claims
from tests.fixtures.scheduler_nodes import counted
from tests.fixtures.scheduler_nodes import resources as _resources

SECOND = datetime.datetime(2026, 1, 1, 12, 0, 0)


@pytest.fixture
def mgr(db, monkeypatch):
    from scheduler import host_cache
    from scheduler import manager
    monkeypatch.setattr(host_cache, 'BACKGROUND', False)
    host_cache.reset()
    monkeypatch.setattr(manager.notify, 'refresh_hosts', lambda ctx, h: None)
    yield manager.SchedulerManager()
    host_cache.reset()


def _records():
    return {r.host: r for r in servicegroup.list_services()}


def test_heartbeats_of_many_hosts_are_one_update(mgr):
    hosts = ['h%03d' % i for i in range(120)]
    for h in hosts:
        servicegroup.report(h, 'nova-compute', 'compute', seen_at=SECOND)
    sent = SECOND + datetime.timedelta(seconds=10, microseconds=250000)
    for h in hosts:
        mgr.report_state(None, h, 'nova-compute', 'compute', sent_at=sent.isoformat())
    assert _records()['h000'].last_seen_up == SECOND  # not written yet
    with counted() as statements:
        mgr.write_heartbeats()
    assert len(statements) == 1, statements
    recs = _records()
    # Written as sent at the start of its second: never newer than sent.
    assert {r.last_seen_up for r in recs.values()} == {SECOND + datetime.timedelta(seconds=10)}
    assert {r.report_count for r in recs.values()} == {2}
    with counted() as statements:
        mgr.write_heartbeats()  # nothing pending: nothing to do
    assert statements == []


def test_first_heartbeat_makes_the_record(mgr):
    servicegroup.report('old', 'nova-compute', 'compute', seen_at=SECOND)
    for h in ('old', 'new'):
        mgr.report_state(None, h, 'nova-compute', 'compute')
    mgr.write_heartbeats()
    recs = _records()
    assert set(recs) == {'old', 'new'}
    assert recs['new'].topic == 'compute' and recs['new'].report_count == 1
    assert recs['old'].report_count == 2 and servicegroup.is_up(recs['new'])


def test_a_late_heartbeat_does_not_move_time_back(mgr):
    servicegroup.report('h1', 'nova-compute', 'compute', seen_at=SECOND)
    heartbeats = servicegroup.Heartbeats()
    heartbeats.add('h1', 'nova-compute', 'compute',
                   seen_at=SECOND - datetime.timedelta(minutes=5))
    heartbeats.write()
    rec = _records()['h1']
    assert (rec.last_seen_up, rec.report_count) == (SECOND, 1)


def test_several_heartbeats_of_a_host_before_a_write_keep_the_newest(mgr):
    servicegroup.report('h1', 'nova-compute', 'compute', seen_at=SECOND)
    heartbeats = servicegroup.Heartbeats()
    for s in (3, 9, 5):
        heartbeats.add('h1', 'nova-compute', 'compute',
                       seen_at=SECOND + datetime.timedelta(seconds=s))
    assert len(heartbeats) == 1
    heartbeats.write()
    heartbeats.add('h1', 'nova-compute', 'compute', seen_at=SECOND)
    heartbeats.write()
    rec = _records()['h1']
    assert rec.last_seen_up == SECOND + datetime.timedelta(seconds=9)
    assert rec.report_count == 4  # 1 + 3 (the late one is not counted)


def test_a_failed_write_keeps_the_heartbeats_for_the_next(mgr, monkeypatch):
    servicegroup.report('h1', 'nova-compute', 'compute', seen_at=SECOND)
    later = SECOND + datetime.timedelta(seconds=20)
    mgr.report_state(None, 'h1', 'nova-compute', 'compute', sent_at=later.isoformat())

    def lost():
        raise db_api.exception.DBConnectionError()
    real = db_api.connection
    monkeypatch.setattr(db_api, 'connection', lost)
    with pytest.raises(db_api.exception.DBConnectionError):
        mgr.write_heartbeats()
    assert len(mgr.heartbeats) == 1
    monkeypatch.setattr(db_api, 'connection', real)
    mgr.write_heartbeats()
    assert _records()['h1'].last_seen_up == later


def test_the_scheduler_writes_what_it_holds_when_it_stops(mgr):
    mgr.report_state(None, 'h1', 'nova-compute', 'compute')
    mgr.cleanup_host()
    assert servicegroup.is_up(_records()['h1'])


def test_an_unchanged_resource_report_is_one_update(mgr):
    res = dict(_resources('h1'), cpu_info='{"arch": "x86_64"}', disk_available_least=None)
    mgr.update_compute_node(None, 'h1', res)
    with db_api.session() as s:
        s.execute(sa.update(claims.N).values(updated_at=SECOND))
    with counted() as statements:
        mgr.update_compute_node(None, 'h1', res)
    assert len(statements) == 1, statements
    node = claims.node_for_host('h1')
    assert node.updated_at > SECOND and node.disk_available_least is None


@pytest.mark.parametrize('change', [{'vcpus': 16}, {'host_ip': '10.0.0.2'},
                                    {'disk_available_least': 40}, {'cpu_info': '{}'},
                                    {'external_gateway': True}])
def test_a_changed_resource_report_is_written(mgr, change, monkeypatch):
    from scheduler import manager
    refreshed = []
    monkeypatch.setattr(manager.notify, 'refresh_hosts', lambda ctx, h: refreshed.append(h))
    monkeypatch.setattr(manager.snat, 'rebind', lambda: {'gw'})
    res = dict(_resources('h1'), cpu_info='{"arch": "x86_64"}', disk_available_least=None)
    mgr.update_compute_node(None, 'h1', res)
    refreshed.clear()
    mgr.update_compute_node(None, 'h1', dict(res, **change))
    node = claims.node_for_host('h1')
    (key, value), = change.items()
    assert getattr(node, key) == value
    # What follows a change still happens: peers hear a new address, a new
    # gateway rebinds the SNAT ports.
    if key in ('host_ip', 'external_gateway'):
        assert refreshed, change


def test_heartbeat_records_are_the_same_as_written_one_by_one(mgr):
    """The batched write and report() agree on a record's columns."""
    servicegroup.report('a', 'nova-compute', 'compute', seen_at=SECOND)
    heartbeats = servicegroup.Heartbeats()
    heartbeats.add('b', 'nova-compute', 'compute', seen_at=SECOND)
    heartbeats.write()
    a, b = _records()['a'], _records()['b']
    cols = ('binary', 'topic', 'zone', 'disabled', 'forced_down', 'report_count',
            'last_seen_up', 'updated_at')
    assert [getattr(a, c) for c in cols] == [getattr(b, c) for c in cols]
    assert models.ServiceRecord.__tablename__ == 'services'
