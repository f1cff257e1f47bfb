"""Scheduler filters, weighers and claims on a real SQLite database."""

import threading
import uuid

import pytest
import sqlalchemy as sa

from common import servicegroup
from common.db import api as db_api
from common.db import claims
from common.db import compute_models as cm
from scheduler import filters
from scheduler import host_state
from scheduler import weights


def add_host(name, vcpus=2, memory_mb=4096, local_gb=100, reserved_memory_mb=0, up=True):
    claims.update_node(name, {'hypervisor_hostname': name, 'hypervisor_type': 'QEMU',
                              'hypervisor_version': 7002000, 'vcpus': vcpus,
                              'memory_mb': memory_mb, 'local_gb': local_gb,
                              'reserved_memory_mb': reserved_memory_mb, 'reserved_vcpus': 0,
                              'reserved_disk_gb': 0})
    if up:
        servicegroup.report(name, 'nova-compute', 'compute')


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


def test_sql_candidates_match_python_filters(db, conf):
    add_host('a', memory_mb=1024)
    add_host('b', memory_mb=8192, vcpus=1)
    add_host('c', memory_mb=4096, vcpus=8)
    add_host('d', memory_mb=16384, up=False)
    enabled = conf.scheduler.enabled_filters
    got = host_state.candidates(spec(memory_mb=2048), enabled)
    assert {h.host for h in got} == {'b', 'c'}
    want, _ = run_filters(spec(memory_mb=2048))
    assert {h.host for h in want} == {'b', 'c'}
    assert [h.host for h in host_state.candidates(spec(memory_mb=2048, ignore_hosts=['b']),
                                                  enabled)] == ['c']


def test_select_and_claim_explains_when_nothing_fits(db):
    from scheduler import build
    add_host('a', memory_mb=1024)
    host, why = build.select_and_claim('i1', spec(memory_mb=4096))
    assert host is None and why.startswith('RamFilter removed 1 of 1 host: a has 1024 MB')
    host, why = build.select_and_claim('i2', spec(memory_mb=512))
    assert host.host == 'a' and why is None
