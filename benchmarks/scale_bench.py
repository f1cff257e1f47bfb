#!/usr/bin/env python3
"""Scale benchmark: N simulated compute agents (the real agent code with the
fake driver, tests/fixtures/sim_computes.py) on the real bus (a RabbitMQ node
of the run's own) against a real control plane (LocalCloud: api, scheduler,
conductor, image, volume; MariaDB by default).

For each N: seconds until all N are up in the compute service list (and
known as hypervisors); over a quiet window, the heartbeats and resource
reports sent per second and the heartbeats written; RPC round trips (p50,
p99) to the agents, the scheduler and the conductor; the time of the
service and hypervisor lists; control-plane CPU and RSS per service; then
the time to make ``--servers`` servers ACTIVE (one request, min_count) and
how many hosts they spread over.

    python benchmarks/scale_bench.py [--n 100 1000 5000] [--servers 1000]
        [--window 40] [--report-interval 10] [--db mysql|sqlite|postgresql]
        [--power-sync-interval 10] [--network-sync-interval 30]
        [--service-down-time S] [--json FILE]

The intervals an operator of thousands of hosts would set, for example:
``--report-interval 30 --power-sync-interval 600 --network-sync-interval 300``
(heartbeats every 30 s, resource reports every 60 s; service_down_time
defaults to 6 report intervals).
"""

import argparse
import json
import os
import statistics
import sys
import time

from benchlib import Client
from benchlib import LocalCloud
from benchlib import wait

from tests.fixtures import bus
from tests.fixtures import scale_probe as probe
from tests.fixtures.rabbit_node import RabbitNode
from tests.fixtures.sim_computes import SimFleet
from tests.fixtures.sim_computes import fake_image_file

UNLIMITED = '[quota]\ninstances = -1\ncores = -1\nram = -1\n' \
            '[scheduler]\ncpu_allocation_ratio = 16.0\n'


def _timed(client, path, count=5):
    times = []
    for _ in range(count):
        t = time.perf_counter()
        client.call('GET', path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(n, servers, window, report_interval, db, rabbit, up_timeout=600,
        power_sync_interval=10, network_sync_interval=30, down=None, boot_timeout=900,
        pings=200):
    down = down or max(60, 6 * report_interval)
    out = {'n': n, 'report_interval': report_interval, 'service_down_time': down,
           'power_sync_interval': power_sync_interval,
           'network_sync_interval': network_sync_interval, 'load_start': os.getloadavg()}
    extra = UNLIMITED + '[compute]\nsync_power_state_interval = %d\n' \
        '[network]\nsync_interval = %d\n' % (power_sync_interval, network_sync_interval)
    with LocalCloud(db=db, rabbit=rabbit, compute=False, report_interval=report_interval,
                    service_down_time=down, extra_conf=extra) as cloud:
        eng = probe.engine(cloud)
        image = cloud.openstack('image', 'create', '--public', '--disk-format', 'qcow2',
                                '--container-format', 'bare', '--file',
                                fake_image_file(cloud.workdir), 'fake', json_out=True)['id']
        client = Client(cloud)
        t0 = time.perf_counter()
        with SimFleet(cloud, n) as fleet:
            fleet.wait_started(timeout=1800)
            out['start_s'] = time.perf_counter() - t0
            try:
                wait(lambda: probe.compute_services(eng, down)[1] >= n, timeout=up_timeout,
                     step=1)
                out['all_up_s'] = time.perf_counter() - t0
                wait(lambda: len(client.call('GET', '/compute/v2.1/os-hypervisors')
                                 ['hypervisors']) >= n, timeout=up_timeout, step=2)
                out['all_nodes_s'] = time.perf_counter() - t0
            except TimeoutError:
                # The control plane does not keep up: say how far it got.
                out['all_up_s'] = out['all_nodes_s'] = float('nan')
            out['up_at_timeout'] = probe.compute_services(eng, down)[1]
            # Quiet: past the first reports of every agent.
            time.sleep(2 * report_interval)
            before, beats_before = fleet.stats(), probe.compute_services(eng, down)[2]
            win = probe.Window(cloud)
            time.sleep(window)
            seconds, cpu = win.end()
            out['load_window'] = os.getloadavg()
            after, beats_after = fleet.stats(), probe.compute_services(eng, down)[2]
            rate = {k: (after['tasks'].get(k, 0) - before['tasks'].get(k, 0)) / seconds
                    for k in after['tasks']}
            out['sent_per_s'] = rate
            out['heartbeats_written_per_s'] = (beats_after - beats_before) / seconds
            out['idle'] = cpu
            out['sim'] = {'procs': len(fleet.procs), 'threads': after['threads'],
                          'rss_mib': after['rss_mib'],
                          'heartbeat_late_s': after['late'].get('heartbeat', 0.0),
                          'task_late_s': max(after['late'].values(), default=0.0)}
            print('N=%d partial: %s' % (n, json.dumps(out)), flush=True)
            with bus.bus(cloud):
                rtt = probe.round_trips(fleet.hosts(), pings)
            out['rpc_ms'] = {k: {'p50': 1000 * probe.percentile(v, 50),
                                 'p99': 1000 * probe.percentile(v, 99)}
                             for k, v in rtt.items()}
            out['service_list_s'] = _timed(client, '/compute/v2.1/os-services')
            out['hypervisor_list_s'] = _timed(client, '/compute/v2.1/os-hypervisors/detail')
            t = time.perf_counter()
            cli = cloud.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                                  json_out=True)
            out['cli_service_list_s'] = time.perf_counter() - t
            out['cli_up'] = sum(1 for s in cli if s['State'] == 'up')
            if servers:
                win = probe.Window(cloud)
                t = time.perf_counter()
                client.call('POST', '/compute/v2.1/servers', json={'server': {
                    'name': 'scale', 'imageRef': image, 'flavorRef': '1',
                    'networks': 'none', 'min_count': servers, 'max_count': servers}})
                try:
                    wait(lambda: probe.server_states(eng)[0]['active'] >= servers or
                         probe.server_states(eng)[0]['error'], timeout=boot_timeout, step=1)
                    out['boot_s'] = time.perf_counter() - t
                except TimeoutError:
                    out['boot_s'] = float('nan')
                states, hosts = probe.server_states(eng)
                out['boot_states'] = dict(states)
                out['boot_hosts'] = hosts
                out['boot'] = win.end()[1]
                out['load_boot'] = os.getloadavg()
        eng.dispose()
    return out


def show(r):
    print('N=%d with report_interval %d, service_down_time %d, power sync every %d s, '
          'network sync every %d s; load average at the start %s, in the window %s, '
          'after the boot %s' % (
              r['n'], r['report_interval'], r['service_down_time'],
              r['power_sync_interval'], r['network_sync_interval'],
              '/'.join('%.1f' % x for x in r['load_start']),
              '/'.join('%.1f' % x for x in r.get('load_window', ())),
              '/'.join('%.1f' % x for x in r.get('load_boot', ()))))
    print('N=%d: agents started in %.0f s, all up in the service list after %.0f s, '
          'all hypervisors after %.0f s (%d up then; %d up in the CLI later)' % (
              r['n'], r['start_s'], r['all_up_s'], r['all_nodes_s'], r['up_at_timeout'],
              r['cli_up']))
    s = r['sent_per_s']
    print('  sent/s: heartbeats %.1f, resource reports %.1f, power syncs %.1f, network '
          'sync checks %.1f; heartbeats written/s %.1f' % (
              s.get('heartbeat', 0), s.get('update_available_resource', 0),
              s.get('sync_power_states', 0), s.get('sync_network', 0),
              r['heartbeats_written_per_s']))
    print('  RPC ms p50/p99: ' + ', '.join('%s %.1f/%.1f' % (k, v['p50'], v['p99'])
                                           for k, v in r['rpc_ms'].items()))
    print('  lists: os-services %.2f s, os-hypervisors/detail %.2f s, CLI service list '
          '%.2f s' % (r['service_list_s'], r['hypervisor_list_s'], r['cli_service_list_s']))
    print('  idle control plane: ' + ', '.join(
        '%s %.1f%% CPU %.0f MiB' % (k, v['cpu_pct'], v['rss_mib'])
        for k, v in r['idle'].items()))
    print('  simulator: %(procs)d processes, %(threads)d threads, %(rss_mib).0f MiB; '
          'heartbeats up to %(heartbeat_late_s).1f s late, periodic tasks up to '
          '%(task_late_s).1f s' % r['sim'])
    if 'boot_s' in r:
        print('  %s servers ACTIVE in %.0f s on %d hosts (%s); CPU s during: %s' % (
            r['boot_states'].get('active', 0), r['boot_s'], r['boot_hosts'],
            r['boot_states'], ', '.join('%s %.0f' % (k, v['cpu_s'])
                                        for k, v in r['boot'].items())))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, nargs='+', default=[100, 1000, 5000])
    ap.add_argument('--servers', type=int, default=1000)
    ap.add_argument('--window', type=int, default=40)
    ap.add_argument('--report-interval', type=int, default=10)
    ap.add_argument('--power-sync-interval', type=int, default=10,
                    help='[compute] sync_power_state_interval of the agents')
    ap.add_argument('--network-sync-interval', type=int, default=30,
                    help='[network] sync_interval of the agents')
    ap.add_argument('--service-down-time', type=int,
                    help='default: 6 report intervals, at least 60 s')
    ap.add_argument('--boot-timeout', type=int, default=900,
                    help='seconds the servers may take to go ACTIVE')
    ap.add_argument('--pings', type=int, default=200,
                    help='round trips measured to each of agents, scheduler, conductor')
    ap.add_argument('--db', default='mysql')
    ap.add_argument('--up-timeout', type=int, default=600,
                    help='seconds to wait for all agents up before measuring anyway')
    ap.add_argument('--json', help='append each result as a JSON line to this file')
    args = ap.parse_args()
    with RabbitNode() as rabbit:
        for n in args.n:
            r = run(n, args.servers, args.window, args.report_interval, args.db, rabbit,
                    args.up_timeout, args.power_sync_interval, args.network_sync_interval,
                    args.service_down_time, args.boot_timeout, args.pings)
            show(r)
            if args.json:
                with open(args.json, 'a') as f:
                    f.write(json.dumps(r) + '\n')


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
