#!/usr/bin/env python3
"""Boot benchmark: POST /servers -> ACTIVE (polled every 50 ms) for the tiny
image on a real all-in-one cloud (real RabbitMQ, libvirt, QEMU TCG), one at
a time and N at once; then the RSS of every Altostack process idle and with
the N servers running, and of the RabbitMQ broker they use, with the total
(target: the idle control plane within 1 GiB).

    python benchmarks/boot_bench.py [--sequential 5] [--parallel 10] [--idle-only]
"""

import argparse
import concurrent.futures
import os
import statistics
import time

from benchlib import Client
from benchlib import LocalCloud


def _rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def _broker_pids():
    """The RabbitMQ node (beam.smp) the clouds use; it serves the machine."""
    out = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/comm' % entry) as f:
                    if f.read().strip() == 'beam.smp':
                        out.append(int(entry))
            except OSError:
                pass
    return out


def rss_by_service(cloud):
    """{service: MiB}, an API's forked workers counted with it; then the
    broker and the total."""
    out = {}
    for name, proc in cloud.procs.items():
        pids = [proc.pid]
        try:
            with open('/proc/%d/task/%d/children' % (proc.pid, proc.pid)) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        out[name] = sum(_rss_kib(pid) for pid in pids) / 1024.0
    out['rabbitmq'] = sum(_rss_kib(pid) for pid in _broker_pids()) / 1024.0
    out['total'] = sum(out.values())
    return out


def print_rss(rows):
    names = list(rows[0][1])
    print('RSS MiB      %s' % ' '.join('%12s' % n for n in names))
    for label, row in rows:
        print('%-12s %s' % (label, ' '.join('%12.1f' % row[n] for n in names)))


def boot_timed(client, image, name):
    t0 = time.perf_counter()
    sid = client.boot(image, name)
    return sid, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sequential', type=int, default=5)
    ap.add_argument('--parallel', type=int, default=10)
    ap.add_argument('--idle-only', action='store_true',
                    help='only the idle RSS (no guests)')
    args = ap.parse_args()
    # Ten tiny guests on two cores need more than Nova's default 4 vCPUs
    # per core.
    with LocalCloud(report_interval=5, service_down_time=20,
                    extra_conf='[scheduler]\ncpu_allocation_ratio = 16.0\n') as cloud:
        image = cloud.upload_tiny_image()['id']
        client = Client(cloud)
        time.sleep(3)
        idle = rss_by_service(cloud)
        if args.idle_only:
            print_rss([('idle', idle)])
            return
        seq = []
        for i in range(args.sequential):
            sid, dt = boot_timed(client, image, 'seq-%d' % i)
            seq.append(dt)
            client.delete_servers([sid])
        print('one at a time (%d): p50 %.2f s, min %.2f s, max %.2f s'
              % (len(seq), statistics.median(seq), min(seq), max(seq)))
        with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
            results = list(pool.map(lambda i: boot_timed(client, image, 'par-%d' % i),
                                    range(args.parallel)))
        times = [dt for _sid, dt in results]
        print('%d at once: all ACTIVE; p50 %.2f s, max %.2f s'
              % (len(times), statistics.median(times), max(times)))
        loaded = rss_by_service(cloud)
        print_rss([('idle', idle), ('%d servers' % args.parallel, loaded)])
        client.delete_servers([sid for sid, _dt in results])


if __name__ == '__main__':
    main()
