"""Issue 15, test 5: shared storage on Ceph. One cloud of three hosts whose
volumes and images live in a Ceph cluster of the test's own
(devstack/lib/ceph.sh on the hosts bridge): an image uploaded (raw) is an
RBD image with a protected snapshot, a volume made from it is a
copy-on-write clone, a guest on host 2 writes data and its checksum to it,
the server is live-migrated to host 3 (the network disk is not copied) and
the guest reads the same checksum back without a reboot; a second server
boots from an RBD volume. Each compute host opens RBD as its own cephx
user (volumes and images read-only), through a libvirt secret its agent
defined from its own keyring."""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from tests.fixtures.ceph import LocalCeph
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('ceph-osd'),
    reason='needs root, nsenter and the Ceph daemons')

# Waits for its volume (vdb), writes 1 MiB of random data 50 MiB into it
# and prints the data's checksum, then every second reads it back from the
# disk (page cache dropped) and prints that checksum.
WRITER = """#!/bin/sh
setsid sh -c 'while [ ! -b /dev/vdb ]; do sleep 0.5; done;
  dd if=/dev/urandom of=/dev/vdb bs=65536 count=16 seek=800 conv=fsync 2>/dev/null;
  sync; echo 3 > /proc/sys/vm/drop_caches;
  s=$(dd if=/dev/vdb bs=65536 count=16 skip=800 2>/dev/null | md5sum | cut -c1-32);
  echo "CEPH-WROTE $s";
  i=0; while true; do i=$((i + 1)); echo 3 > /proc/sys/vm/drop_caches;
    s=$(dd if=/dev/vdb bs=65536 count=16 skip=800 2>/dev/null | md5sum | cut -c1-32);
    echo "CEPH-READ $i $s"; sleep 1; done' </dev/null >/dev/console 2>&1 &
echo CEPH-WAITING
"""


@pytest.fixture(scope='module')
def ccloud():
    cloud = cloud_mod.LocalCloud(extra_hosts=2)
    # Ceph listens on host 1's address on the hosts bridge, which the
    # guests' QEMU in hosts 2 and 3 reach: the bridge comes first.
    cloud.hosts_sh('altostack_hosts_net_up')
    ceph = LocalCeph('%s.1' % cloud.hosts_subnet)
    try:
        ceph.up()
        ceph.key('volume', 'altostack-volume')
        ceph.key('image', 'altostack-image')
        cloud.ceph = ceph
        cloud.secrets = {}
        for n in (1, 2, 3):
            user = 'altostack-compute-h%d' % n
            ceph.key('compute', user)
            cloud.secrets[n] = str(uuid.uuid4())
            lines = '[libvirt]\nrbd_user = %s\nrbd_secret_uuid = %s\nrbd_keyring = %s\n' % (
                user, cloud.secrets[n], ceph.keyring(user))
            if n == 1:
                host1 = lines
            else:
                os.makedirs(os.path.join(cloud.workdir, 'hosts', 'host%d' % n))
                with open(os.path.join(cloud.workdir, 'hosts', 'host%d' % n, 'extra.conf'),
                          'w') as f:
                    f.write(lines)
        cloud.extra_conf = f"""[volume]
backend = rbd
rbd_pool = volumes
rbd_user = altostack-volume
rbd_ceph_conf = {ceph.conf}
rbd_secret_uuid = {cloud.secrets[1]}
[image]
store = rbd
rbd_store_pool = images
rbd_store_user = altostack-image
rbd_store_ceph_conf = {ceph.conf}
{host1}"""
        with cloud:
            yield cloud
    finally:
        ceph.down()
        cloud.hosts_sh('altostack_hosts_net_down', check=False)


def _status(cloud, kind, name):
    return cloud.openstack(kind, 'show', name, '-c', 'status', '-f', 'value',
                           cloud='demo').strip()


def _xml(cloud, n, dom):
    return subprocess.run(['virsh', '-c', cloud.host_uri(n), 'dumpxml', dom],
                          capture_output=True, text=True, check=True).stdout


def test_rbd_volume_from_image_moves_with_its_server_and_boots_a_server(ccloud, tmp_path):
    c, ceph = ccloud, ccloud.ceph
    h2, h3 = c.host_name(2), c.host_name(3)
    # Compute keys: their pools only.
    caps = ceph.caps('altostack-compute-h2')
    assert caps == {'mon': 'profile rbd',
                    'osd': 'profile rbd pool=volumes, profile rbd-read-only pool=images'}
    for n in (2, 3):
        with open(os.path.join(c.workdir, 'hosts', 'host%d' % n, 'extra.conf')) as f:
            assert 'connection' not in f.read()

    # The image: an RBD image with a protected snapshot.
    image = c.upload_tiny_image('ceph-tiny', disk_format='raw')
    snaps = ceph.rbd('snap', 'ls', 'images/%s' % image['id'])
    assert [(s['name'], s['protected']) for s in snaps] == [('snap', 'true')], snaps
    assert not os.path.exists(os.path.join(c.workdir, 'state', 'images', image['id']))

    # A volume from it: a copy-on-write clone.
    vol = c.openstack('volume', 'create', '--image', image['id'], '--size', '1', 'ceph-vol',
                      cloud='demo', json_out=True)
    until(lambda: _status(c, 'volume', 'ceph-vol') == 'available', 120, 'ceph-vol')
    info = ceph.rbd('info', 'volumes/volume-%s' % vol['id'])
    assert info['parent']['pool'] == 'images' and info['parent']['image'] == image['id'] \
        and info['parent']['snapshot'] == 'snap', info
    assert info['size'] == 1024 ** 3

    # A server on host 2 (the zone holds host 2 only until it moves).
    c.openstack('aggregate', 'create', '--zone', 'ceph-zone', 'ceph-agg')
    c.openstack('aggregate', 'add', 'host', 'ceph-agg', h2)
    c.openstack('network', 'create', 'ceph-net', cloud='demo')
    c.openstack('subnet', 'create', '--network', 'ceph-net', '--subnet-range',
                '10.63.0.0/24', 'ceph-sub', cloud='demo')
    c.openstack('server', 'create', '--image', 'ceph-tiny', '--flavor', 'm1.tiny',
                '--network', 'ceph-net', '--availability-zone', 'ceph-zone', '--user-data',
                user_data(tmp_path, 'writer.sh', WRITER), '--wait', 'ceph-vm', cloud='demo')
    sid = c.openstack('server', 'show', 'ceph-vm', '-c', 'id', '-f', 'value',
                      cloud='demo').strip()
    dom = 'altostack-%s' % sid
    assert c.openstack('server', 'show', sid, json_out=True)['OS-EXT-SRV-ATTR:host'] == h2
    wait_console(c, 'ceph-vm', 'CEPH-WAITING', timeout=300)
    c.openstack('server', 'add', 'volume', 'ceph-vm', 'ceph-vol', cloud='demo')
    out = wait_console(c, 'ceph-vm', 'CEPH-READ 2 ', timeout=120)
    wrote = re.search(r'CEPH-WROTE ([0-9a-f]{32})', out).group(1)
    assert re.search(r'CEPH-READ \d+ %s' % wrote, out), out[-1000:]
    xml = _xml(c, 2, dom)
    assert re.search(r"<source protocol='rbd' name='volumes/volume-%s'" % vol['id'], xml), xml
    assert "<auth username='altostack-compute-h2'>" in xml, xml
    assert "<secret type='ceph' uuid='%s'/>" % c.secrets[2] in xml, xml
    assert "name='%s.1'" % c.hosts_subnet in xml, xml
    # The data is in Ceph: what the guest wrote is in the RBD image.
    got = subprocess.run(
        'rbd -c %s -n client.admin --keyring %s/keys/client.admin.keyring export '
        '--no-progress volumes/volume-%s - | dd bs=65536 skip=800 count=16 2>/dev/null '
        '| md5sum' % (ceph.conf, ceph.dir, vol['id']), shell=True, capture_output=True,
        text=True, check=True, timeout=120).stdout.split()[0]
    assert got == wrote

    # Live migration to host 3: only the root disk is copied, the volume is
    # opened there by host 3's own cephx user.
    c.openstack('aggregate', 'add', 'host', 'ceph-agg', h3)
    last = max(int(n) for n in re.findall(r'CEPH-READ (\d+) ', c.openstack(
        'console', 'log', 'show', 'ceph-vm', cloud='demo')))
    c.openstack('server', 'migrate', '--live-migration', '--wait', sid)
    srv = c.openstack('server', 'show', sid, json_out=True)
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', h3), srv
    xml = _xml(c, 3, dom)
    assert "<auth username='altostack-compute-h3'>" in xml, xml
    assert "<secret type='ceph' uuid='%s'/>" % c.secrets[3] in xml, xml

    def read_after():
        text = c.openstack('console', 'log', 'show', 'ceph-vm', cloud='demo')
        return [s for n, s in re.findall(r'CEPH-READ (\d+) ([0-9a-f]{32})', text)
                if int(n) > last + 2], text
    until(lambda: read_after()[0], 60, 'the guest reading its volume on host 3')
    sums, text = read_after()
    assert set(sums) == {wrote}, sums
    assert 'ALTOSTACK-GUEST-BOOTED' not in text.split('CEPH-WAITING')[-1]
    vol_now = c.openstack('volume', 'show', vol['id'], json_out=True)
    assert vol_now['status'] == 'in-use' and h3 in str(vol_now['attachments']), vol_now

    # Boot from an RBD volume (a clone of the image too).
    boot = c.openstack('volume', 'create', '--image', image['id'], '--size', '1',
                       'ceph-boot', cloud='demo', json_out=True)
    until(lambda: _status(c, 'volume', 'ceph-boot') == 'available', 120, 'ceph-boot')
    assert ceph.rbd('info', 'volumes/volume-%s' % boot['id'])['parent']['image'] == image['id']
    c.openstack('server', 'create', '--volume', 'ceph-boot', '--flavor', 'm1.tiny',
                '--network', 'ceph-net', '--availability-zone', 'ceph-zone', '--wait',
                'ceph-bfv', cloud='demo')
    wait_console(c, 'ceph-bfv', 'ALTOSTACK-GUEST-BOOTED', timeout=300)
    bfv_id = c.openstack('server', 'show', 'ceph-bfv', '-c', 'id', '-f', 'value',
                         cloud='demo').strip()
    bfv = c.openstack('server', 'show', bfv_id, json_out=True)
    n = 2 if bfv['OS-EXT-SRV-ATTR:host'] == h2 else 3
    xml = _xml(c, n, 'altostack-%s' % bfv['id'])
    assert re.search(r"<source protocol='rbd' name='volumes/volume-%s'" % boot['id'], xml)
    assert "<target dev='vda' bus='virtio'/>" in xml

