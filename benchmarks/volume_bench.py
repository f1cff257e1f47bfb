#!/usr/bin/env python3
"""Volume benchmark on a real all-in-one cloud (RabbitMQ, the volume
service's file backend, libvirt, a QEMU TCG guest):

* volume create: POST /volumes (1 GiB, blank) -> 'available';
* attach: POST os-volume_attachments -> the guest's kernel has /dev/vdb
  (a shell on the guest's serial socket polls for the block device every
  10 ms and prints a marker; the time is when the marker arrives), and
  -> the volume is 'in-use' in the API;
* detach: DELETE os-volume_attachments -> /dev/vdb is gone in the guest,
  and -> 'available';
* NBD against the file: qemu-img bench reads and writes (64 KiB, direct
  I/O) on a volume's qcow2 file, then on the same volume exported over NBD
  by the backend's qemu-storage-daemon on loopback.

    python benchmarks/volume_bench.py [--runs 20]
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from tests.functional.cloud import LocalCloud  # noqa: E402

VIRSH = ['virsh', '-c', 'qemu:///system']


class Client:
    def __init__(self, cloud):
        self.api = 'http://127.0.0.1:%d' % cloud.api_port
        conn = cloud.sdk('admin')
        self.project = conn.current_project_id
        self.s = requests.Session()
        self.s.headers.update({'X-Auth-Token': conn.auth_token,
                               'OpenStack-API-Version': 'compute 2.61, volume 3.64'})

    def call(self, method, path, **kw):
        r = self.s.request(method, self.api + path, timeout=60, **kw)
        if r.status_code >= 400:
            raise RuntimeError('%s %s: %s %s' % (method, path, r.status_code, r.text))
        return r.json() if r.content else None

    def volume(self, vid):
        return self.call('GET', '/volume/v3/%s/volumes/%s' % (self.project, vid))['volume']


def wait(predicate, timeout=120, step=0.02):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(step)
    raise TimeoutError()


class GuestShell:
    """The guest's serial console over its loopback TCP socket."""

    def __init__(self, server_id):
        xml = subprocess.run(VIRSH + ['dumpxml', 'altostack-%s' % server_id],
                             capture_output=True, text=True, check=True).stdout
        port = int(re.search(r"<serial type='tcp'>\s*<source mode='bind' host='[^']+' "
                             r"service='(\d+)'", xml).group(1))
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=120)
        self.buf = b''
        self.run('stty -echo')

    def send(self, line):
        self.sock.sendall(line.encode() + b'\n')

    def until(self, marker):
        while marker.encode() not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError('the console closed')
            self.buf += chunk
        t = time.perf_counter()
        self.buf = self.buf.split(marker.encode(), 1)[1]
        return t

    def run(self, command):
        mark = 'M%s' % uuid.uuid4().hex[:8]
        self.send('%s; echo %s""DONE' % (command, mark))
        self.until('%sDONE' % mark)


def throughput(path_or_url, fmt, write, count=2000):
    args = ['qemu-img', 'bench', '-c', str(count), '-s', '65536', '-d', '8', '-t', 'none',
            '-f', fmt]
    if write:
        args.append('-w')
    t0 = time.perf_counter()
    subprocess.run(args + [path_or_url], check=True, capture_output=True)
    return count * 65536 / (time.perf_counter() - t0) / 2 ** 20


def nbd_against_file(runs):
    from blockstore.backends import load_backend
    with tempfile.TemporaryDirectory(prefix='volbench-') as work:
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        backend = load_backend('file', volumes_dir=work, volume_format='qcow2',
                               nbd_host='127.0.0.1', nbd_port=port)
        backend.start()
        try:
            vid = str(uuid.uuid4())
            backend.create(vid, 1)
            path = backend.find_volume(vid)[0]
            # allocate the clusters first, so reads hit data on both paths
            subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 512M', path],
                           check=True, capture_output=True)
            figures = {}
            for write in (False, True):
                kind = 'write' if write else 'read'
                figures['file ' + kind] = statistics.median(
                    throughput(path, 'qcow2', write) for _ in range(runs))
                conn = backend.initialize_connection(vid, {'host': 'bench-elsewhere'})
                data = conn['data']
                url = 'nbd://%s:%s/%s' % (data['host'], data['port'], data['name'])
                figures['nbd ' + kind] = statistics.median(
                    throughput(url, 'raw', write) for _ in range(runs))
                backend.terminate_connection(vid, {'host': 'bench-elsewhere'})
            backend.delete(vid)
        finally:
            backend.stop(keep_exports=False)
    return figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=20)
    args = ap.parse_args()
    extra = '[scheduler]\ncpu_allocation_ratio = 16.0\n'
    with LocalCloud(extra_conf=extra) as cloud:
        image = cloud.upload_tiny_image()['id']
        c = Client(cloud)
        vols = '/volume/v3/%s/volumes' % c.project
        sid = c.call('POST', '/compute/v2.1/servers', json={'server': {
            'name': 'volbench', 'imageRef': image, 'flavorRef': '1',
            'networks': 'none'}})['server']['id']
        wait(lambda: c.call('GET', '/compute/v2.1/servers/' + sid)['server']['status']
             == 'ACTIVE', step=0.2)
        wait(lambda: 'ALTOSTACK-READY' in c.call(
            'POST', '/compute/v2.1/servers/%s/action' % sid,
            json={'os-getConsoleOutput': {}})['output'], step=0.5)
        shell = GuestShell(sid)
        create, seen, in_use, gone, available = [], [], [], [], []
        for i in range(args.runs):
            t0 = time.perf_counter()
            vid = c.call('POST', vols, json={'volume': {'size': 1, 'name': 'vb%d' % i}})[
                'volume']['id']
            create.append(wait(lambda vid=vid: c.volume(vid)['status'] == 'available') - t0)
            shell.send('while [ ! -b /dev/vdb ]; do usleep 10000; done; echo V""ISIBLE')
            t1 = time.perf_counter()
            c.call('POST', '/compute/v2.1/servers/%s/os-volume_attachments' % sid,
                   json={'volumeAttachment': {'volumeId': vid}})
            in_use.append(wait(lambda vid=vid: c.volume(vid)['status'] == 'in-use') - t1)
            seen.append(shell.until('VISIBLE') - t1)
            shell.send('while [ -b /dev/vdb ]; do usleep 10000; done; echo G""ONE')
            t2 = time.perf_counter()
            c.call('DELETE', '/compute/v2.1/servers/%s/os-volume_attachments/%s' % (sid, vid))
            gone.append(shell.until('GONE') - t2)
            available.append(wait(lambda vid=vid: c.volume(vid)['status'] == 'available')
                             - t2)
            c.call('DELETE', '%s/%s' % (vols, vid))
            print('run %d: create %.2f s, attach visible %.2f s / in-use %.2f s, detach gone '
                  '%.2f s / available %.2f s' % (i + 1, create[-1], seen[-1], in_use[-1],
                                                 gone[-1], available[-1]))
        p50 = statistics.median
        print('volume create -> available:        p50 %.2f s' % p50(create))
        print('attach -> /dev/vdb in the guest:   p50 %.2f s' % p50(seen))
        print('attach -> in-use:                  p50 %.2f s' % p50(in_use))
        print('detach -> /dev/vdb gone in guest:  p50 %.2f s' % p50(gone))
        print('detach -> available:               p50 %.2f s' % p50(available))
    for name, mbs in nbd_against_file(3).items():
        print('qemu-img bench 64 KiB %-11s %7.0f MiB/s' % (name + ':', mbs))


if __name__ == '__main__':
    main()
