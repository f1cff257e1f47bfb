#!/usr/bin/env python3
"""Migration benchmark on a real cloud with hosts 2 and 3
(LocalCloud(extra_hosts=2): real RabbitMQ, libvirt, QEMU TCG):

- live migration of the tiny guest (m1.tiny, no NIC), ping-pong between
  hosts 2 and 3: wall time from the os-migrateLive call to the server
  ACTIVE on the destination (GET polled every 50 ms), and the guest's
  pause (libvirt's completed job on the destination: `virsh domjobinfo
  --completed`, "Total downtime");
- resize on the server's own host: wall time from the resize call to
  VERIFY_RESIZE (then reverted, not timed).

Prints p50 (min, max) of each over N runs.

    python benchmarks/migration_bench.py [--runs 10] [--resize-runs 10]
"""

import argparse
import re
import subprocess
import time

from benchlib import Client
from benchlib import LocalCloud
from benchlib import summary

HOST = 'OS-EXT-SRV-ATTR:host'


def wait(client, sid, status, host=None, timeout=300):
    t0 = time.perf_counter()
    while True:
        srv = client.server(sid)
        if srv['status'] == status and srv['OS-EXT-STS:task_state'] is None and (
                host is None or srv[HOST] == host):
            return
        if srv['status'] == 'ERROR' or (host and srv['status'] == 'ACTIVE' and
                                        srv['OS-EXT-STS:task_state'] is None and
                                        srv[HOST] != host):
            raise RuntimeError('%s: %s on %s (fault %s)' % (sid, srv['status'], srv[HOST],
                                                          srv.get('fault')))
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError('%s not %s after %d s' % (sid, status, timeout))
        time.sleep(0.05)


def downtime_ms(cloud, n, sid):
    out = subprocess.run(['virsh', '-c', cloud.host_uri(n), 'domjobinfo', '--completed',
                          'altostack-%s' % sid], capture_output=True, text=True,
                         timeout=30).stdout
    m = re.search(r'Total downtime:\s+(\d+)\s*ms', out)
    return int(m.group(1)) if m else None


def live_migrate(cloud, client, sid, dest_n):
    dest = cloud.host_name(dest_n)
    t0 = time.perf_counter()
    client.action(sid, {'os-migrateLive': {'host': dest, 'block_migration': 'auto'}},
                  headers={'OpenStack-API-Version': 'compute 2.30'})
    wait(client, sid, 'ACTIVE', host=dest)
    return time.perf_counter() - t0, downtime_ms(cloud, dest_n, sid)


def resize(client, sid, flavor):
    t0 = time.perf_counter()
    client.action(sid, {'resize': {'flavorRef': flavor}})
    wait(client, sid, 'VERIFY_RESIZE')
    took = time.perf_counter() - t0
    client.action(sid, {'revertResize': None})
    wait(client, sid, 'ACTIVE')
    return took


def p50(label, values, unit):
    values = [v for v in values if v is not None]
    print('%s (%d runs): %s' % (label, len(values), summary(values, unit)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--resize-runs', type=int, default=10)
    ap.add_argument('--skip-live', action='store_true', help='resize runs only')
    args = ap.parse_args()
    with LocalCloud(report_interval=5, service_down_time=20, extra_hosts=2) as cloud:
        image = cloud.upload_tiny_image()['id']
        cloud.openstack('aggregate', 'create', '--zone', 'bench', 'bench-agg')
        cloud.openstack('aggregate', 'add', 'host', 'bench-agg', cloud.host_name(2))
        bigger = cloud.openstack('flavor', 'create', '--vcpus', '1', '--ram', '640',
                                 '--disk', '1', 'bench-640', json_out=True)['id']
        client = Client(cloud)
        sid = client.boot(image, 'bench', availability_zone='bench')
        cloud.openstack('aggregate', 'add', 'host', 'bench-agg', cloud.host_name(3))
        time.sleep(10)  # let the guest finish booting
        runs = [] if args.skip_live else [
            live_migrate(cloud, client, sid, 3 if i % 2 == 0 else 2) for i in range(args.runs)]
        if runs:
            p50('live migration, API call -> ACTIVE on the destination',
                [w for w, _d in runs], 's')
            p50('live migration, guest paused (domjobinfo downtime)', [d for _w, d in runs],
                'ms')
        if args.resize_runs:
            times = [resize(client, sid, bigger) for _ in range(args.resize_runs)]
            p50('resize on its own host, API call -> VERIFY_RESIZE', times, 's')
        client.delete_servers([sid])


if __name__ == '__main__':
    main()
