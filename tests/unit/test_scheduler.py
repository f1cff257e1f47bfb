"""Scheduler filters, weighers, the host cache and claims on a real SQLite
database."""

import datetime
import random
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from common import servicegroup
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import models
from scheduler import build
from scheduler import claims
from scheduler import filters
from scheduler import host_cache
from scheduler import host_state
from scheduler import weights
from tests.fixtures.scheduler_nodes import add_host

pytestmark = pytest.mark.usefixtures('no_cache_thread')


def spec(vcpus=1, memory_mb=512, disk_gb=1, **kw):
    return dict({'vcpus': vcpus, 'memory_mb': memory_mb, 'disk_gb': disk_gb}, **kw)


def run_filters(s):
    return filters.run(filters.load(['ComputeFilter', 'AvailabilityZoneFilter', 'RamFilter',
                                     'CoreFilter', 'DiskFilter']), host_state.load_hosts(), s)


def test_ram_filter_explains(db):
    add_host('a', memory_mb=1024)
    add_host('b', memory_mb=2048)
    add_host('c', memory_mb=8192)
    passing, why = run_filters(spec(memory_mb=4096))
    assert [h.host for h in passing] == ['c']
    assert why == ['RamFilter removed 2 of 3 hosts: a has 1024 MB free, needs 4096; '
                   'b has 2048 MB free, needs 4096']


def test_down_and_disabled_hosts_are_removed(db):
    add_host('a')
    add_host('b', up=False)
    rec = servicegroup.list_services(host='a')[0]
    servicegroup.update_service(rec.uuid, disabled=True, disabled_reason='maint')
    passing, why = run_filters(spec())
    assert passing == []
    assert 'a is disabled (maint)' in why[0] and 'b is down' in why[0]


def test_reserved_memory_counts(db, conf):
    add_host('a', memory_mb=4096, reserved_memory_mb=3900)
    passing, _ = run_filters(spec(memory_mb=512))
    assert passing == []


def test_spread_and_pack(db, conf):
    add_host('small', memory_mb=2048)
    add_host('big', memory_mb=8192)
    hosts = host_state.load_hosts()
    assert weights.weigh(hosts, spec())[0].host == 'big'
    conf.set_override('ram_weight_multiplier', -1.0, 'scheduler')
    conf.set_override('cpu_weight_multiplier', 0.0, 'scheduler')
    try:
        assert weights.weigh(hosts, spec())[0].host == 'small'
    finally:
        conf.clear_override('ram_weight_multiplier', 'scheduler')
        conf.clear_override('cpu_weight_multiplier', 'scheduler')


def test_claims_never_overcommit_under_races(db):
    add_host('a', vcpus=100, memory_mb=4096)
    node = claims.node_for_host('a')
    won = []

    def worker():
        for _ in range(5):
            if claims.claim(node.id, str(uuid.uuid4()), {'vcpus': 1, 'memory_mb': 512,
                                                          'disk_gb': 1}):
                won.append(1)
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 8  # 4096 / 512
    node = claims.node_for_host('a')
    assert node.memory_mb_used == 4096
    with db_api.reader() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(cm.Allocation)) == 8


def test_release_gives_back(db):
    add_host('a')
    node = claims.node_for_host('a')
    assert claims.claim(node.id, 'i1', {'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 10})
    claims.release('i1')
    node = claims.node_for_host('a')
    assert (node.vcpus_used, node.memory_mb_used, node.local_gb_used) == (0, 0, 0)


@pytest.mark.parametrize('policy,expect', [('anti-affinity', ['b']), ('affinity', ['a'])])
def test_group_filters(db, policy, expect):
    add_host('a')
    add_host('b')
    f = filters.load(['ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter'])
    s = spec(group={'policy': policy, 'hosts': {'a'}})
    passing, _ = filters.run(f, host_state.load_hosts(), s)
    assert [h.host for h in passing] == expect


def test_select_and_claim_explains_when_nothing_fits(db):
    assert build.select_and_claim('i0', spec()) == (None, 'There are no compute hosts.')
    add_host('a', memory_mb=1024)
    host, why = build.select_and_claim('i1', spec(memory_mb=4096))
    assert host is None and why.startswith('RamFilter removed 1 of 1 host: a has 1024 MB')
    host, why = build.select_and_claim('i2', spec(memory_mb=512))
    assert host.host == 'a' and why is None


# -- The host cache ----------------------------------------------------------

def put_in_zone(zone, *hosts):
    with db_api.session() as s:
        agg = cm.Aggregate(uuid=str(uuid.uuid4()), name='agg-' + zone, availability_zone=zone,
                           meta={})
        s.add(agg)
        s.flush()
        for h in hosts:
            s.add(cm.AggregateHost(aggregate_id=agg.id, host=h))


def used(host):
    node = claims.node_for_host(host)
    return node.vcpus_used, node.memory_mb_used, node.local_gb_used


def cached_used(host):
    snap = host_cache.get().snapshot(max_age=3600)
    i = snap.nodes.index[host]
    return int(snap.vcpus_used[i]), int(snap.memory_mb_used[i]), int(snap.local_gb_used[i])


def cache_pick(s, enabled=None, **kw):
    snap = host_cache.get().refresh()
    return [h.host for h in host_cache.candidates(
        snap, s, enabled or host_cache.CONF.scheduler.enabled_filters, **kw)]


def test_cache_filters_match_python_filters(db, conf):
    rnd = random.Random(7)
    for i in range(40):
        add_host('h%02d' % i, vcpus=rnd.choice([1, 2, 4]),
                 memory_mb=rnd.choice([1024, 2048, 4096, 8192]),
                 local_gb=rnd.choice([5, 20, 100]), reserved_memory_mb=rnd.choice([0, 512]),
                 up=rnd.random() > 0.2)
    for i in range(0, 40, 3):
        node = claims.node_for_host('h%02d' % i)
        claims.claim(node.id, 'pre-%d' % i, {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 5})
    rec = servicegroup.list_services(host='h05')[0]
    servicegroup.update_service(rec.uuid, disabled=True, disabled_reason='maint')
    put_in_zone('az1', 'h01', 'h02', 'h03', 'h07')
    put_in_zone('az2', 'h04', 'h08')
    enabled = conf.scheduler.enabled_filters
    specs = [spec(), spec(memory_mb=2048), spec(vcpus=3, disk_gb=20),
             spec(memory_mb=1024, availability_zone='az1'),
             spec(availability_zone='nova'), spec(availability_zone='nowhere'),
             spec(ignore_hosts=['h01', 'h10', 'gone']),
             spec(image_properties={'hw_architecture': 'aarch64'}),
             spec(group={'policy': 'affinity', 'hosts': {'h02', 'h03'}}),
             spec(group={'policy': 'anti-affinity', 'hosts': {'h02', 'h03'}})]
    sizes = []
    for s in specs:
        want, _ = filters.run(filters.load(enabled), host_state.load_hosts(), s)
        assert sorted(cache_pick(s)) == sorted(h.host for h in want), s
        sizes.append(len(want))
    assert sizes[0] > sizes[1] > 0 and sizes[0] > sizes[2] > 0 and sizes[3] > 0
    assert sizes[5] == sizes[7] == 0 and min(sizes[6], sizes[8], sizes[9]) > 0


def test_cache_zones(db, conf):
    for h in ('a', 'b', 'c'):
        add_host(h)
    put_in_zone('az1', 'a')
    put_in_zone(conf.default_availability_zone, 'b')
    assert cache_pick(spec(availability_zone='az1')) == ['a']
    assert sorted(cache_pick(spec(availability_zone='nova'))) == ['b', 'c']
    assert cache_pick(spec(availability_zone='az9')) == []
    snap = host_cache.get().snapshot()
    assert snap.host_state(snap.nodes.index['a']).availability_zone == 'az1'
    assert snap.host_state(snap.nodes.index['c']).availability_zone == 'nova'
    host, why = build.select_and_claim('i1', spec(availability_zone='az9'))
    assert host is None and why.startswith('AvailabilityZoneFilter removed 3 of 3 hosts')


def test_a_zone_changed_behind_the_cache_gets_no_server(db, conf):
    """Host 'a' leaves zone az1 after the cache was read: a server asked
    for in az1 goes to 'b', which joined it, never to 'a'."""
    for h in ('a', 'b'):
        add_host(h, memory_mb=8192 if h == 'a' else 4096)
    put_in_zone('az1', 'a')
    cache = host_cache.get()
    cache.snapshot()
    with db_api.session() as s:
        s.execute(sa.delete(cm.AggregateHost).where(cm.AggregateHost.host == 'a'))
        agg = s.scalars(sa.select(cm.Aggregate).where(cm.Aggregate.name == 'agg-az1')).one()
        s.add(cm.AggregateHost(aggregate_id=agg.id, host='b'))
    assert [h.host for h in host_cache.candidates(cache.snapshot(), spec(
        availability_zone='az1'), conf.scheduler.enabled_filters)] == ['a']
    host, why = build.select_and_claim('i1', spec(availability_zone='az1'))
    assert host.host == 'b' and why is None
    assert used('a') == (0, 0, 0)


def test_cache_excludes_down_and_disabled_hosts(db):
    add_host('up', memory_mb=2048)
    add_host('down', memory_mb=8192, up=False)
    add_host('off', memory_mb=8192)
    rec = servicegroup.list_services(host='off')[0]
    servicegroup.update_service(rec.uuid, disabled=True)
    assert cache_pick(spec()) == ['up']
    host, _ = build.select_and_claim('i1', spec())
    assert host.host == 'up'
    # A host whose service stops reporting is dropped at the next read.
    servicegroup.update_service(servicegroup.list_services(host='up')[0].uuid, forced_down=True)
    assert cache_pick(spec()) == []


def _seen(host, binary, when):
    S = models.ServiceRecord
    with db_api.session() as s:
        s.execute(sa.update(S).where(S.host == host, S.binary == binary)
                  .values(last_seen_up=when))


def test_a_restarted_scheduler_measures_silence_from_when_heartbeats_stopped(
        db, conf, monkeypatch):
    """No scheduler wrote heartbeats for 100 s (this one restarted, and has
    written its own since): 'a', which reported until then, is up; 'b',
    silent long before, is down; once this process has run
    service_down_time, silence counts from now."""
    add_host('a')
    add_host('b')
    servicegroup.report(conf.host, 'nova-scheduler', 'scheduler')
    now = models.utcnow()
    stopped = now - datetime.timedelta(seconds=100)
    _seen('a', 'nova-compute', stopped - datetime.timedelta(seconds=1))
    _seen('b', 'nova-compute', stopped - datetime.timedelta(seconds=1000))
    monkeypatch.setattr(host_cache, '_STARTED', now - datetime.timedelta(seconds=1))
    assert cache_pick(spec()) == ['a']
    # another scheduler was writing them all along: no grace
    servicegroup.report('sched2', 'nova-scheduler', 'scheduler')
    assert cache_pick(spec()) == []
    with db_api.session() as s:
        s.execute(sa.delete(models.ServiceRecord).where(models.ServiceRecord.host == 'sched2'))
    monkeypatch.setattr(host_cache, '_STARTED', now - datetime.timedelta(
        seconds=conf.service_down_time + 1))
    assert cache_pick(spec()) == []


def test_a_host_heard_but_not_yet_written_is_up(db, conf, monkeypatch):
    """The database was away: 'a''s heartbeats reached this scheduler but
    are not written yet; it is up all the same, unless forced down."""
    add_host('a')
    add_host('b')
    old = models.utcnow() - datetime.timedelta(seconds=conf.service_down_time + 30)
    _seen('a', 'nova-compute', old)
    _seen('b', 'nova-compute', old)
    monkeypatch.setattr(host_cache, '_STARTED', old - datetime.timedelta(hours=1))
    monkeypatch.setattr(servicegroup, '_HEARD', [None])
    beats = servicegroup.Heartbeats()
    assert cache_pick(spec()) == []
    beats.add('a', 'nova-compute', 'compute')   # heard, the write still to come
    assert cache_pick(spec()) == ['a']
    servicegroup.update_service(servicegroup.list_services(host='a')[0].uuid,
                                forced_down=True)
    assert cache_pick(spec()) == []


def test_cache_sees_changes_only_when_read(db):
    add_host('a')
    cache = host_cache.get()
    first = cache.snapshot()
    assert list(first.nodes.hosts) == ['a']
    add_host('b', memory_mb=8192)
    node = claims.node_for_host('a')
    assert claims.claim(node.id, 'other', {'vcpus': 1, 'memory_mb': 1024, 'disk_gb': 1})
    assert cache.snapshot() is first  # younger than MAX_AGE: no read
    snap = cache.refresh()
    assert snap is not first and list(snap.nodes.hosts) == ['a', 'b']
    assert cached_used('a') == (1, 1024, 1)
    assert cache.snapshot(max_age=0) is not snap  # too old: read again


def test_cache_rereads_totals_now_and_then(db, monkeypatch):
    add_host('a', memory_mb=4096)
    cache = host_cache.get()
    assert cache_pick(spec(memory_mb=3072)) == ['a']
    add_host('a', memory_mb=4096, reserved_memory_mb=2048)  # the agent reports again
    assert cache_pick(spec(memory_mb=3072)) == ['a']  # totals are re-read now and then...
    monkeypatch.setattr(host_cache, 'NODES_INTERVAL', 0.0)
    assert cache_pick(spec(memory_mb=3072)) == []  # ...and then the cache knows
    snap = cache.snapshot()
    assert snap.host_state(0).reserved_memory_mb == 2048


def test_own_claim_updates_cache_at_once(db, monkeypatch):
    monkeypatch.setattr(host_cache, 'MAX_AGE', 600.0)  # a slow claim on a busy box is no re-read
    add_host('a', memory_mb=8192)
    cache = host_cache.get()
    snap = cache.snapshot()
    host, _ = build.select_and_claim('i1', spec(vcpus=2, memory_mb=1024, disk_gb=10))
    assert host.host == 'a'
    assert cache.snapshot() is snap  # no re-read...
    assert cached_used('a') == used('a') == (2, 1024, 10)  # ...yet it knows


def test_changes_during_a_read_are_not_lost(db, monkeypatch):
    add_host('a', memory_mb=8192)
    cache = host_cache.get()
    cache.snapshot()
    real_read = cache._read

    def read_then_claim(seq):
        snap = real_read(seq)
        # Our own claim commits after the read saw the database.
        node = claims.node_for_host('a')
        assert claims.claim(node.id, 'late', {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
        cache.consumed(node.id, {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
        return snap
    monkeypatch.setattr(cache, '_read', read_then_claim)
    cache.refresh()
    assert cached_used('a') == (1, 512, 1)
    monkeypatch.undo()
    cache.refresh()  # the change log does not apply twice once a read saw it
    assert cached_used('a') == (1, 512, 1)


def test_stale_cache_claim_fails_and_next_host_wins(db):
    add_host('big', memory_mb=8192)
    add_host('small', memory_mb=4096)
    cache = host_cache.get()
    cache.snapshot()
    # Another scheduler fills 'big' behind this one's back.
    node = claims.node_for_host('big')
    assert claims.claim(node.id, 'other', {'vcpus': 1, 'memory_mb': 7680, 'disk_gb': 1})
    # The cache still thinks 'big' is the best host:
    assert [h.host for h in host_cache.candidates(cache.snapshot(), spec(memory_mb=1024),
                                                  ['RamFilter'])] == ['big', 'small']
    host, why = build.select_and_claim('i1', spec(memory_mb=1024))
    assert host.host == 'small' and why is None
    assert cached_used('big') == used('big') == (1, 7680, 1)  # re-read after the failure
    assert used('small') == (1, 1024, 1)


def test_a_host_disabled_behind_the_cache_takes_nothing(db):
    """An admin disables the best host after the cache was read: the
    claim there fails in the database (ComputeFilter's rule) and the next
    host takes the server; a plain claim, without the rule, still may."""
    add_host('big', memory_mb=8192)
    add_host('small', memory_mb=4096)
    cache = host_cache.get()
    cache.snapshot()
    rec = servicegroup.list_services(host='big')[0]
    servicegroup.update_service(rec.uuid, disabled=True, disabled_reason='maint')
    assert [h.host for h in host_cache.candidates(cache.snapshot(), spec(memory_mb=1024),
                                                  ['ComputeFilter', 'RamFilter'])][0] == 'big'
    host, why = build.select_and_claim('i1', spec(memory_mb=1024))
    assert host.host == 'small' and why is None
    assert used('big') == (0, 0, 0) and used('small') == (1, 1024, 1)
    node = claims.node_for_host('big')
    assert not claims.claim(node.id, 'i2', spec(), enabled_only=True)
    assert claims.claim(node.id, 'i2', spec())


def test_claims_lost_to_others_explained(db, monkeypatch):
    add_host('a', memory_mb=4096)
    host_cache.get().snapshot()
    monkeypatch.setattr(claims, 'claim', lambda *a, **kw: False)  # someone always wins
    host, why = build.select_and_claim('i1', spec())
    assert host is None
    assert why == '1 host passed the filters but concurrent builds took their room first'


def test_cache_spread_and_pack(db, conf):
    add_host('small', memory_mb=2048, vcpus=2)
    add_host('big', memory_mb=8192, vcpus=2)
    assert build.select_and_claim('i1', spec())[0].host == 'big'
    conf.set_override('ram_weight_multiplier', -1.0, 'scheduler')
    try:
        assert build.select_and_claim('i2', spec())[0].host == 'small'
    finally:
        conf.clear_override('ram_weight_multiplier', 'scheduler')


def test_vector_weights_match_python_weights(db, conf):
    rnd = random.Random(3)
    for i in range(30):
        add_host('h%02d' % i, vcpus=rnd.choice([2, 4, 8]),
                 memory_mb=rnd.choice([2048, 4096, 8192, 16384]))
    conf.set_override('cpu_weight_multiplier', 0.5, 'scheduler')
    try:
        for s in (spec(), spec(group={'policy': 'soft-affinity', 'hosts': {'h03'},
                                      'member_hosts': ['h03', 'h03', 'h17']}),
                  spec(group={'policy': 'soft-anti-affinity', 'hosts': {'h01'},
                              'member_hosts': ['h01', 'h02']})):
            want = [h.host for h in weights.weigh(host_state.load_hosts(), s)]
            assert cache_pick(s) == want
    finally:
        conf.clear_override('cpu_weight_multiplier', 'scheduler')


def test_host_subset_size_picks_among_the_best(db, conf):
    for i, mem in enumerate([16384, 8192, 4096, 2048, 1024]):
        add_host('h%d' % i, memory_mb=mem, vcpus=2)
    conf.set_override('host_subset_size', 3, 'scheduler')
    try:
        seen = set()
        for _ in range(30):
            picked = cache_pick(spec(memory_mb=512), subset=3)
            assert sorted(picked[:3]) == ['h0', 'h1', 'h2'] and picked[3:] == ['h3', 'h4']
            seen.add(picked[0])
        assert len(seen) > 1
    finally:
        conf.clear_override('host_subset_size', 'scheduler')


def test_retry_never_picks_a_failed_host(db):
    add_host('best', memory_mb=8192)
    add_host('next', memory_mb=4096)
    host, _ = build.select_and_claim('i1', spec(ignore_hosts=['best']))
    assert host.host == 'next'
    host, why = build.select_and_claim('i2', spec(ignore_hosts=['best', 'next']))
    assert host is None and 'RetryFilter removed 2 of 2 hosts' in why


def test_background_refresh(db):
    add_host('a')
    cache = host_cache.get()
    cache.snapshot()
    cache.start(interval=0.05)
    try:
        add_host('b')
        deadline = time.monotonic() + 5
        while 'b' not in cache.snapshot(max_age=3600).nodes.index:
            assert time.monotonic() < deadline, 'background refresh never saw host b'
            time.sleep(0.02)
    finally:
        cache.stop()


def test_two_schedulers_with_stale_caches_never_overcommit(db, monkeypatch):
    for i in range(4):
        add_host('h%d' % i, vcpus=64, memory_mb=4096, local_gb=1000)
    caches = [host_cache.HostCache(host_cache.CONF.database.connection) for _ in range(2)]
    mine = threading.local()
    monkeypatch.setattr(host_cache, 'get', lambda: mine.cache)
    placed = []

    def scheduler(cache):
        mine.cache = cache
        cache.snapshot()
        while True:
            host, _ = build.select_and_claim(str(uuid.uuid4()), spec(memory_mb=512))
            if host is None:
                return
            placed.append(host.host)
    threads = [threading.Thread(target=scheduler, args=(c,)) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in caches:
        c.stop()
    assert len(placed) == 32  # 4 hosts x 4096 MB / 512 MB, and not one more
    assert all(used('h%d' % i)[1] == 4096 for i in range(4))
