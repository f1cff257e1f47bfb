#!/usr/bin/env python3
"""Scheduler benchmark: select + claim one instance among N simulated hosts,
with 1 and 2 scheduler processes; p50, p99, placements/s and overcommits.

The hosts are real rows (compute nodes and up, enabled service records) in
a real database (SQLite file by default; --db for MariaDB or PostgreSQL);
placements go through the scheduler's own select_and_claim, each process
with its own host cache (loaded before the clock starts: "load ms" is that
first read; a running scheduler keeps its cache warm). The processes start
placing together; placements/s is all placements over the time from the
first start to the last finish.

    python benchmarks/scheduler_bench.py [--hosts 1000 10000] [--procs 1 2]
        [--placements 1000] [--db mysql+pymysql://root@127.0.0.1/schedbench]

With --db, each run creates its own database on that server (named after
the URL's database, plus a suffix) and drops it afterwards.
"""

import argparse
import contextlib
import multiprocessing
import os
import random
import shutil
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


@contextlib.contextmanager
def scratch_database(server_url):
    """A new, empty database on the server of ``server_url``; dropped after."""
    import sqlalchemy as sa
    url = sa.engine.make_url(server_url)
    name = '%s_%s' % (url.database or 'schedbench', uuid.uuid4().hex[:8])
    admin_db = 'postgres' if url.get_backend_name() == 'postgresql' else None
    admin = sa.create_engine(sa.engine.URL.create(
        url.drivername, url.username, url.password, url.host, url.port, admin_db, url.query),
        isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % name)
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql('DROP DATABASE IF EXISTS %s' % name)
    finally:
        admin.dispose()


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


def _worker(db_url, state, count, seed, start, results):
    _setup(db_url, state)
    from scheduler import build
    from scheduler import host_cache
    snap = host_cache.get().snapshot()  # what a running scheduler already has
    load = snap.read_seconds
    rnd = random.Random(seed)
    specs = [{'vcpus': rnd.choice([1, 2, 4]), 'memory_mb': rnd.choice([512, 2048, 4096]),
              'disk_gb': rnd.choice([1, 20, 40]), 'availability_zone': None,
              'image_properties': {}, 'group_uuid': None, 'ignore_hosts': []}
             for _ in range(count)]
    times, failed = [], 0
    start.wait()
    began = time.time()
    for spec in specs:
        t = time.perf_counter()
        host, _why = build.select_and_claim(str(uuid.uuid4()), spec)
        times.append(time.perf_counter() - t)
        failed += host is None
    results.put((times, failed, began, time.time(), load))


def check_records():
    """(nodes over their limits, nodes whose usage is not the sum of their
    allocations)."""
    import sqlalchemy as sa

    from common.conf import CONF
    from common.db import api as db_api
    from common.db import compute_models as cm
    N, A = cm.ComputeNode, cm.Allocation
    sch = CONF.scheduler
    held = (sa.select(A.node_id, sa.func.sum(A.vcpus).label('v'),
                      sa.func.sum(A.memory_mb).label('m'), sa.func.sum(A.disk_gb).label('d'))
            .group_by(A.node_id).subquery())
    with db_api.reader() as s:
        over = s.scalar(sa.select(sa.func.count()).select_from(N).where(sa.or_(
            N.memory_mb_used > N.memory_mb * sch.ram_allocation_ratio - N.reserved_memory_mb,
            N.vcpus_used > N.vcpus * sch.cpu_allocation_ratio - N.reserved_vcpus,
            N.local_gb_used > N.local_gb * sch.disk_allocation_ratio - N.reserved_disk_gb)))
        wrong = s.scalar(sa.select(sa.func.count()).select_from(N).outerjoin(
            held, held.c.node_id == N.id).where(sa.or_(
                N.vcpus_used != sa.func.coalesce(held.c.v, 0),
                N.memory_mb_used != sa.func.coalesce(held.c.m, 0),
                N.local_gb_used != sa.func.coalesce(held.c.d, 0))))
    return over, wrong


def run(hosts, procs, placements, db_url=None):
    state = tempfile.mkdtemp(prefix='schedbench-')
    try:
        with (scratch_database(db_url) if db_url else
              contextlib.nullcontext('sqlite:///%s/bench.sqlite' % state)) as url:
            return _run(url, state, hosts, procs, placements)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _run(url, state, hosts, procs, placements):
    _setup(url, state)
    from common.db import api as db_api
    from common.db import migration
    migration.db_sync()
    populate(hosts)
    db_api.dispose()
    ctx = multiprocessing.get_context('spawn')
    start, results = ctx.Barrier(procs), ctx.Queue()  # placing starts when all are loaded
    per = placements // procs
    workers = [ctx.Process(target=_worker, args=(url, state, per, seed, start, results))
               for seed in range(procs)]
    for w in workers:
        w.start()
    try:
        out = [results.get(timeout=600) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.terminate()
    times = sorted(x for r in out for x in r[0])
    failed = sum(r[1] for r in out)
    wall = max(r[3] for r in out) - min(r[2] for r in out)
    load = max(r[4] for r in out)
    over, wrong = check_records()
    db_api.dispose()
    return {'p50': statistics.median(times) * 1000,
            'p99': times[max(0, int(len(times) * 0.99) - 1)] * 1000,
            'rate': len(times) / wall, 'over': over, 'wrong': wrong, 'failed': failed,
            'load': load * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hosts', type=int, nargs='+', default=[1000, 10000])
    ap.add_argument('--procs', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--placements', type=int, default=1000)
    ap.add_argument('--db', help='SQLAlchemy URL of a MariaDB or PostgreSQL server; each run '
                                 'creates and drops its own database there (default: SQLite)')
    args = ap.parse_args()
    print('%8s %6s %9s %9s %13s %11s %8s' % ('hosts', 'procs', 'p50 ms', 'p99 ms',
                                             'placements/s', 'overcommit', 'load ms'))
    for hosts in args.hosts:
        for procs in args.procs:
            r = run(hosts, procs, args.placements, args.db)
            notes = ''
            if r['failed']:
                notes += '  (%d found no host)' % r['failed']
            if r['wrong']:
                notes += '  (%d nodes: usage != allocations)' % r['wrong']
            print('%8d %6d %9.2f %9.2f %13.0f %11d %8.1f%s' % (
                hosts, procs, r['p50'], r['p99'], r['rate'], r['over'], r['load'], notes),
                flush=True)


if __name__ == '__main__':
    main()
