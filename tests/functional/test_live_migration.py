"""Live migration between hosts 2 and 3 (devstack/lib/hosts.sh), through
the real openstack CLI: a guest that counts on its serial console and
wrote a marker to its disk moves while it runs, keeps counting (no
reboot), still reads its marker, keeps its address (a guest on host 1
still pings it), shows its VNC display through the proxy from host 3's
address and runs in host 3's libvirtd only; the records follow it.
A destination that cannot take it is a 400 that says why."""

import os
import re
import shutil
import subprocess
import time

import pytest
from websockets.sync import client as ws_client

from tests.fixtures.console import novnc_websocket
from tests.fixtures.console import rfb_handshake
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('libvirtd'),
    reason='needs root, nsenter and libvirtd')

# Writes a marker at sector 1,000,000 of its root disk, then prints a tick
# every 0.2 s and, every 25 ticks, the marker read back from the disk
# (page cache dropped first, so it comes from the disk the guest has now);
# likewise for a volume once one shows up as vdb.
COUNTER = """#!/bin/sh
echo "LM-MARK-{tag}" | dd of=/dev/vda bs=512 seek=1000000 count=1 conv=sync,notrunc 2>/dev/null
sync
setsid sh -c 'i=0; while true; do i=$((i + 1)); echo "LM-TICK $i";
  if [ $((i % 25)) = 0 ]; then sync; echo 3 > /proc/sys/vm/drop_caches;
    echo "LM-DISK $(dd if=/dev/vda bs=512 skip=1000000 count=1 2>/dev/null | head -c 20)";
    if [ -b /dev/vdb ]; then
      [ -n "$v" ] || echo "LM-VOLMARK-{tag}" | dd of=/dev/vdb bs=512 count=1 conv=sync 2>/dev/null;
      v=1; echo "LM-VOL $(dd if=/dev/vdb bs=512 count=1 2>/dev/null | head -c 20)"; fi; fi;
  sleep 0.2; done' </dev/null >/dev/console 2>&1 &
echo LM-COUNTING
"""
PINGER = """#!/bin/sh
setsid sh -c 'n=0; while true; do n=$((n + 1));
  if ping -c 1 -W 1 {target} >/dev/null 2>&1; then r=ok; else r=fail; fi;
  echo "LM-PING $n $r";
  sleep 1; done' </dev/null >/dev/console 2>&1 &
echo LM-PINGING
"""
VM_IP = '10.62.0.50'


@pytest.fixture(scope='module')
def mcloud():
    c = cloud_mod.LocalCloud(extra_hosts=2)
    # Volumes reach hosts 2..N over NBD on the hosts' bridge (host 1's
    # address there), not on the machine's loopback.
    c.extra_conf = '[volume]\nnbd_bind_host = %s.1\n' % c.hosts_subnet
    with c:
        yield c


def domains(uri):
    r = subprocess.run(['virsh', '-q', '-c', uri, 'list', '--all', '--name'],
                       capture_output=True, text=True, timeout=30, check=True)
    return set(r.stdout.split())


def ticks(text):
    return [int(n) for n in re.findall(r'LM-TICK (\d+)', text)]


def usage(mcloud, n):
    hyp = mcloud.openstack('hypervisor', 'show', mcloud.host_name(n), json_out=True)
    return hyp['vcpus_used'], hyp['memory_mb_used']


def test_a_running_guest_moves_between_hosts_and_keeps_running(mcloud, tmp_path):
    mcloud.upload_tiny_image()
    h1, h2, h3 = (mcloud.host_name(n) for n in (1, 2, 3))
    # Host 2 in the server's zone (host 3 joins it later), host 1 in another.
    mcloud.openstack('aggregate', 'create', '--zone', 'lm-zone', 'lm-agg')
    mcloud.openstack('aggregate', 'add', 'host', 'lm-agg', h2)
    mcloud.openstack('aggregate', 'create', '--zone', 'lm-z1', 'lm-agg1')
    mcloud.openstack('aggregate', 'add', 'host', 'lm-agg1', h1)
    mcloud.openstack('network', 'create', 'lm-net', cloud='demo')
    mcloud.openstack('subnet', 'create', '--network', 'lm-net', '--subnet-range',
                     '10.62.0.0/24', 'lm-sub', cloud='demo')
    mcloud.openstack('port', 'create', '--network', 'lm-net', '--fixed-ip',
                     'subnet=lm-sub,ip-address=%s' % VM_IP, 'lm-port', cloud='demo')
    mcloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default',
                     cloud='demo')
    mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                     '--port', 'lm-port', '--availability-zone', 'lm-zone', '--user-data',
                     user_data(tmp_path, 'count.sh', COUNTER.format(tag='1234')),
                     'lm-vm', cloud='demo')
    mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                     '--network', 'lm-net', '--availability-zone', 'lm-z1', '--user-data',
                     user_data(tmp_path, 'ping.sh', PINGER.format(target=VM_IP)),
                     '--wait', 'lm-pinger', cloud='demo')
    sid = mcloud.openstack('server', 'show', 'lm-vm', '-c', 'id', '-f', 'value',
                           cloud='demo').strip()
    dom = 'altostack-%s' % sid
    srv = mcloud.openstack('server', 'show', sid, json_out=True)
    assert srv['OS-EXT-SRV-ATTR:host'] == h2, srv
    before = wait_console(mcloud, 'lm-vm', 'LM-DISK LM-MARK-1234', timeout=300)
    assert 'ALTOSTACK-GUEST-BOOTED' in before
    wait_console(mcloud, 'lm-pinger', 'ok', timeout=300)
    until(lambda: ' ok' in mcloud.openstack('console', 'log', 'show', 'lm-pinger',
                                            cloud='demo').splitlines()[-1], 60,
          'the pinger reaching the guest on host 2')
    assert usage(mcloud, 2) == (1, 512) and usage(mcloud, 3) == (0, 0)
    # A volume in it (over NBD: the volume service is on host 1).
    mcloud.openstack('volume', 'create', '--size', '1', 'lm-vol', cloud='demo')
    until(lambda: mcloud.openstack('volume', 'show', 'lm-vol', '-c', 'status', '-f', 'value',
                                   cloud='demo').strip() == 'available', 60, 'lm-vol')
    mcloud.openstack('server', 'add', 'volume', 'lm-vm', 'lm-vol', cloud='demo')
    wait_console(mcloud, 'lm-vm', 'LM-VOL LM-VOLMARK-1234', timeout=120)

    # Nowhere to go yet: host 3 is not in the server's zone, host 1 neither.
    r = mcloud.openstack('server', 'migrate', '--live-migration', sid, check=False)
    assert r.returncode != 0 and 'No valid host was found' in r.stderr, r.stderr
    assert "is the server's own host" in r.stderr, r.stderr
    r = mcloud.openstack('--os-compute-api-version', '2.30', 'server', 'migrate',
                         '--live-migration', '--host', 'nosuch', sid, check=False)
    assert r.returncode != 0 and 'nosuch is not known' in r.stderr, r.stderr
    r = mcloud.openstack('--os-compute-api-version', '2.30', 'server', 'migrate',
                         '--live-migration', '--host', h1, sid, check=False)
    assert r.returncode != 0 and 'AvailabilityZoneFilter' in r.stderr, r.stderr
    srv = mcloud.openstack('server', 'show', sid, json_out=True)
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', h2)
    assert usage(mcloud, 3) == (0, 0)
    # The demo user may not.
    r = mcloud.openstack('server', 'migrate', '--live-migration', sid, cloud='demo',
                         check=False)
    assert r.returncode != 0 and '403' in r.stderr, r.stderr

    mcloud.openstack('aggregate', 'add', 'host', 'lm-agg', h3)
    last_before = max(ticks(mcloud.openstack('console', 'log', 'show', 'lm-vm',
                                             cloud='demo')))
    t0 = time.monotonic()
    mcloud.openstack('server', 'migrate', '--live-migration', '--wait', sid)
    took = time.monotonic() - t0
    srv = mcloud.openstack('server', 'show', sid, json_out=True)
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', h3), srv
    assert dom in domains(mcloud.host_uri(3)) and dom not in domains(mcloud.host_uri(2))
    # The guest kept counting: the console (its log on host 3 now) goes on
    # from where it was, with no boot in between, and reads its marker.
    after = wait_console(mcloud, 'lm-vm', 'LM-VOL LM-VOLMARK-1234', timeout=60)
    assert 'ALTOSTACK-GUEST-BOOTED' not in after, after[:2000]
    assert min(ticks(after)) > last_before - 25 and max(ticks(after)) > last_before, (
        last_before, after[:500])
    # Its volume came along: read through host 3's own NBD connection.
    assert 'LM-DISK LM-MARK-1234' in after
    blk = subprocess.run(['virsh', '-c', mcloud.host_uri(3), 'domblklist', dom],
                         capture_output=True, text=True, check=True).stdout
    vol_id = mcloud.openstack('volume', 'show', 'lm-vol', '-c', 'id', '-f', 'value',
                              cloud='demo').strip()
    assert re.search(r'vdb\s+%s' % vol_id, blk), blk
    vol = mcloud.openstack('volume', 'show', vol_id, json_out=True)
    assert vol['status'] == 'in-use' and h3 in str(vol['attachments']), vol
    # Its address moved with it: the guest on host 1 reaches it on host 3.
    n_moved = int(re.findall(r'LM-PING (\d+)', mcloud.openstack(
        'console', 'log', 'show', 'lm-pinger', cloud='demo'))[-1])

    def pinged_after():
        out = mcloud.openstack('console', 'log', 'show', 'lm-pinger', cloud='demo')
        return any(int(n) > n_moved for n in re.findall(r'LM-PING (\d+) ok', out))
    until(pinged_after, 60, 'a ping from host 1 reaching the guest on host 3')
    # Its VNC display listens on host 3's address now, where the proxy reaches it.
    xml = subprocess.run(['virsh', '-c', mcloud.host_uri(3), 'dumpxml', dom],
                         capture_output=True, text=True, check=True).stdout
    assert "address='%s.3'" % mcloud.hosts_subnet in xml, xml
    url = mcloud.openstack('console', 'url', 'show', '--novnc', sid, cloud='demo',
                           json_out=True)['url']
    with ws_client.connect(novnc_websocket(url), open_timeout=10) as ws:
        assert rfb_handshake(ws)['name'] == 'QEMU (%s)' % dom
    # The records: host 3 holds the claim, host 2 nothing; the migration is done.
    assert usage(mcloud, 3) == (1, 512) and usage(mcloud, 2) == (0, 0)
    events = mcloud.openstack('server', 'event', 'list', sid, json_out=True)
    assert events[0]['Action'] == 'live_migrate', events
    # Its files left host 2.
    assert not os.path.exists(os.path.join(mcloud.workdir, 'hosts', 'host2', 'instances',
                                           sid))
    print('live migration host 2 -> 3 (CLI call to ACTIVE): %.1f s' % took)

    # And back, naming the host.
    mcloud.openstack('--os-compute-api-version', '2.30', 'server', 'migrate',
                     '--live-migration', '--host', h2, '--wait', sid)
    srv = mcloud.openstack('server', 'show', sid, json_out=True)
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', h2), srv
    assert dom in domains(mcloud.host_uri(2)) and dom not in domains(mcloud.host_uri(3))
    assert usage(mcloud, 2) == (1, 512) and usage(mcloud, 3) == (0, 0)
    out = wait_console(mcloud, 'lm-vm', 'LM-VOL LM-VOLMARK-1234', timeout=60)
    assert 'ALTOSTACK-GUEST-BOOTED' not in out and 'LM-DISK LM-MARK-1234' in out

    mcloud.openstack('server', 'remove', 'volume', 'lm-vm', 'lm-vol', cloud='demo')
    until(lambda: mcloud.openstack('volume', 'show', 'lm-vol', '-c', 'status', '-f', 'value',
                                   cloud='demo').strip() == 'available', 60, 'lm-vol free')
    mcloud.openstack('server', 'delete', '--wait', 'lm-vm', 'lm-pinger', cloud='demo')
    until(lambda: dom not in domains(mcloud.host_uri(2)), 30, 'the guest gone')
