#!/usr/bin/env python3
"""Snapshot benchmark: POST createImage (2.45) -> image active (GET
/v2/images/{id} polled every 50 ms), and -> the server's task_state back to
None, for the tiny guest on a real all-in-one cloud (real RabbitMQ,
libvirt, QEMU TCG, image service); N runs on one running server, then N on
the same server stopped. Each snapshot image is deleted after its run.

    python benchmarks/snapshot_bench.py [--runs 10] [--stopped-runs 3]
"""

import argparse
import statistics
import time

from benchlib import Client
from benchlib import LocalCloud


def snapshot(client, sid, name):
    """(seconds to active, seconds to the server at rest, image size)."""
    t0 = time.perf_counter()
    image_id = client.action(sid, {'createImage': {'name': name}},
                             headers={'OpenStack-API-Version': 'compute 2.45'})['image_id']
    to_active = to_rest = None
    while to_active is None or to_rest is None:
        now = time.perf_counter() - t0
        if to_active is None:
            img = client.s.get('%s/%s' % (client.images, image_id))
            if img.status_code != 200:
                raise RuntimeError('snapshot image %s: %d %s' % (image_id, img.status_code,
                                                                 img.text))
            if img.json()['status'] == 'active':
                to_active, size = now, img.json()['size']
        if to_rest is None and client.server(sid)['OS-EXT-STS:task_state'] is None:
            to_rest = now
        if now > 300:
            raise RuntimeError('snapshot %s not done after 300 s' % image_id)
        time.sleep(0.05)
    client.s.delete('%s/%s' % (client.images, image_id))
    return to_active, to_rest, size


def report(label, runs):
    active = [a for a, _r, _s in runs]
    rest = [r for _a, r, _s in runs]
    print('%s (%d runs): API call -> image active p50 %.2f s (min %.2f, max %.2f); '
          '-> server at rest p50 %.2f s; image %.1f MiB'
          % (label, len(runs), statistics.median(active), min(active), max(active),
             statistics.median(rest), statistics.median(s for _a, _r, s in runs) / 2 ** 20))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--stopped-runs', type=int, default=3)
    args = ap.parse_args()
    with LocalCloud(report_interval=5, service_down_time=20) as cloud:
        image = cloud.upload_tiny_image()['id']
        client = Client(cloud)
        sid = client.boot(image)
        time.sleep(10)  # let the guest finish booting: its disk settles
        runs = [snapshot(client, sid, 'bench-%d' % i) for i in range(args.runs)]
        report('running tiny guest', runs)
        if args.stopped_runs:
            client.action(sid, {'os-stop': None})
            client.wait_server(sid, 'SHUTOFF')
            runs = [snapshot(client, sid, 'bench-off-%d' % i)
                    for i in range(args.stopped_runs)]
            report('stopped tiny guest', runs)
        client.delete_servers([sid])


if __name__ == '__main__':
    main()
