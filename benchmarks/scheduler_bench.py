#!/usr/bin/env python3
"""Scheduler benchmark: select + claim one instance among N simulated hosts,
with 1 and 2 scheduler processes; p50, p99, placements/s and overcommits.

The hosts are real rows (compute nodes and up, enabled service records) in
a real database (SQLite file by default; --db for MariaDB or PostgreSQL);
placements go through the scheduler's own select_and_claim.

    python benchmarks/scheduler_bench.py [--hosts 1000 10000] [--placements 500]
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))


def _setup(db_url, state):
    from common import config
    conf = os.path.join(state, 'bench.conf')
    with open(conf, 'w') as f:
        f.write('[DEFAULT]\nstate_path = %s\nservice_down_time = 3600\n'
                '[database]\nconnection = %s\n' % (state, db_url))
    config.parse_args(['--config-file', conf])


def populate(n):
    import sqlalchemy as sa

    from common.db import api as db_api
    from common.db import compute_models as cm
    from common.db import models
    now = models.utcnow()
    rnd = random.Random(42)
    nodes, services = [], []
    for i in range(n):
        host = 'sim-%05d' % i
        nodes.append(dict(uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=host,
                          hypervisor_type='QEMU', hypervisor_version=7002000,
                          vcpus=rnd.choice([8, 16, 32]),
                          memory_mb=rnd.choice([16384, 32768, 65536]),
                          local_gb=rnd.choice([200, 500, 1000]), reserved_vcpus=0,
                          reserved_memory_mb=512, reserved_disk_gb=0, vcpus_used=0,
                          memory_mb_used=0, local_gb_used=0, running_vms=0, created_at=now,
                          updated_at=now))
        services.append(dict(uuid=str(uuid.uuid4()), host=host, binary='nova-compute',
                             topic='compute', zone='internal', disabled=False,
                             forced_down=False, report_count=1, last_seen_up=now,
                             created_at=now, updated_at=now))
    with db_api.session() as s:
        s.execute(sa.insert(cm.ComputeNode), nodes)
        s.execute(sa.insert(models.ServiceRecord), services)


def _worker(args):
    db_url, state, count, seed = args
    _setup(db_url, state)
    from scheduler import build
    rnd = random.Random(seed)
    times, failed = [], 0
    for _ in range(count):
        spec = {'vcpus': rnd.choice([1, 2, 4]), 'memory_mb': rnd.choice([512, 2048, 4096]),
                'disk_gb': rnd.choice([1, 20, 40]), 'availability_zone': None,
                'image_properties': {}, 'group_uuid': None, 'ignore_hosts': []}
        t = time.perf_counter()
        host, _why = build.select_and_claim(str(uuid.uuid4()), spec)
        times.append(time.perf_counter() - t)
        failed += host is None
    return times, failed


def overcommits():
    import sqlalchemy as sa

    from common.conf import CONF
    from common.db import api as db_api
    from common.db import compute_models as cm
    N = cm.ComputeNode
    sch = CONF.scheduler
    with db_api.reader() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(N).where(sa.or_(
            N.memory_mb_used > N.memory_mb * sch.ram_allocation_ratio - N.reserved_memory_mb,
            N.vcpus_used > N.vcpus * sch.cpu_allocation_ratio - N.reserved_vcpus,
            N.local_gb_used > N.local_gb * sch.disk_allocation_ratio - N.reserved_disk_gb)))


def run(hosts, procs, placements, db_url=None):
    state = tempfile.mkdtemp(prefix='schedbench-')
    url = db_url or 'sqlite:///%s/bench.sqlite' % state
    _setup(url, state)
    from common.db import api as db_api
    from common.db import migration
    migration.db_sync()
    populate(hosts)
    db_api.dispose()
    per = placements // procs
    with multiprocessing.get_context('spawn').Pool(procs) as pool:
        t = time.perf_counter()
        results = pool.map(_worker, [(url, state, per, seed) for seed in range(procs)])
        wall = time.perf_counter() - t
    times = sorted(x for r in results for x in r[0])
    failed = sum(r[1] for r in results)
    over = overcommits()
    return (statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000,
            len(times) / wall, over, failed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hosts', type=int, nargs='+', default=[1000, 10000])
    ap.add_argument('--placements', type=int, default=1000)
    ap.add_argument('--db', help='SQLAlchemy URL of an EMPTY database (default: SQLite)')
    args = ap.parse_args()
    print('%8s %6s %9s %9s %13s %11s' % ('hosts', 'procs', 'p50 ms', 'p99 ms',
                                         'placements/s', 'overcommit'))
    for hosts in args.hosts:
        for procs in (1, 2):
            p50, p99, rate, over, failed = run(hosts, procs, args.placements, args.db)
            print('%8d %6d %9.2f %9.2f %13.0f %11d%s' % (
                hosts, procs, p50, p99, rate, over,
                '  (%d found no host)' % failed if failed else ''))


if __name__ == '__main__':
    main()
