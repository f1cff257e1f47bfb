#!/usr/bin/env python3
"""Snapshot benchmark: POST createImage (2.45) -> image active (GET
/v2/images/{id} polled every 50 ms), and -> the server's task_state back to
None, for the tiny guest on a real all-in-one cloud (real RabbitMQ,
libvirt, QEMU TCG, image service); N runs on one running server, then N on
the same server stopped. Each snapshot image is deleted after its run.

    PYTHONPATH=. python benchmarks/snapshot_bench.py [--runs 10] [--stopped-runs 3]
"""

import argparse
import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from tests.functional.cloud import LocalCloud  # noqa: E402


class Client:
    def __init__(self, cloud):
        self.base = 'http://127.0.0.1:%d/compute/v2.1' % cloud.api_port
        self.images = 'http://127.0.0.1:%d/v2/images' % cloud.image_port
        self.s = requests.Session()
        self.s.headers.update({'X-Auth-Token': cloud.sdk('admin').auth_token,
                               'OpenStack-API-Version': 'compute 2.61'})

    def server(self, sid):
        return self.s.get(self.base + '/servers/' + sid).json()['server']

    def wait_status(self, sid, status):
        while True:
            srv = self.server(sid)
            if srv['status'] == status and srv['OS-EXT-STS:task_state'] is None:
                return
            if srv['status'] == 'ERROR':
                raise RuntimeError('server %s went to ERROR: %s' % (sid, srv.get('fault')))
            time.sleep(0.05)

    def boot(self, image_id):
        r = self.s.post(self.base + '/servers', json={'server': {
            'name': 'bench', 'imageRef': image_id, 'flavorRef': '1', 'networks': 'none'}})
        r.raise_for_status()
        sid = r.json()['server']['id']
        self.wait_status(sid, 'ACTIVE')
        return sid

    def snapshot(self, sid, name):
        """(seconds to active, seconds to the server at rest, image size)."""
        t0 = time.perf_counter()
        r = self.s.post(self.base + '/servers/%s/action' % sid,
                        json={'createImage': {'name': name}},
                        headers={'OpenStack-API-Version': 'compute 2.45'})
        r.raise_for_status()
        image_id = r.json()['image_id']
        to_active = to_rest = None
        while to_active is None or to_rest is None:
            now = time.perf_counter() - t0
            if to_active is None:
                img = self.s.get('%s/%s' % (self.images, image_id))
                if img.status_code != 200:
                    raise RuntimeError('snapshot image %s: %d %s' % (image_id,
                                                                     img.status_code,
                                                                     img.text))
                if img.json()['status'] == 'active':
                    to_active, size = now, img.json()['size']
            if to_rest is None and self.server(sid)['OS-EXT-STS:task_state'] is None:
                to_rest = now
            if now > 300:
                raise RuntimeError('snapshot %s not done after 300 s' % image_id)
            time.sleep(0.05)
        self.s.delete('%s/%s' % (self.images, image_id))
        return to_active, to_rest, size

    def action(self, sid, body):
        self.s.post(self.base + '/servers/%s/action' % sid, json=body).raise_for_status()


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
        runs = [client.snapshot(sid, 'bench-%d' % i) for i in range(args.runs)]
        report('running tiny guest', runs)
        if args.stopped_runs:
            client.action(sid, {'os-stop': None})
            client.wait_status(sid, 'SHUTOFF')
            runs = [client.snapshot(sid, 'bench-off-%d' % i)
                    for i in range(args.stopped_runs)]
            report('stopped tiny guest', runs)
        client.s.delete(client.base + '/servers/' + sid)


if __name__ == '__main__':
    main()
