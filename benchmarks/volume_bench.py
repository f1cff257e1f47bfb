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
import socket
import statistics
import subprocess
import tempfile
import time
import uuid

from benchlib import Client
from benchlib import GuestShell
from benchlib import LocalCloud
from benchlib import summary
from benchlib import wait


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
        sid = c.boot(image, 'volbench')
        wait(lambda: 'ALTOSTACK-READY' in c.action(
            sid, {'os-getConsoleOutput': {}})['output'], step=0.5)
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
        print('volume create -> available:        ' + summary(create))
        print('attach -> /dev/vdb in the guest:   ' + summary(seen))
        print('attach -> in-use:                  ' + summary(in_use))
        print('detach -> /dev/vdb gone in guest:  ' + summary(gone))
        print('detach -> available:               ' + summary(available))
    for name, mbs in nbd_against_file(3).items():
        print('qemu-img bench 64 KiB %-11s %7.0f MiB/s' % (name + ':', mbs))


if __name__ == '__main__':
    main()
