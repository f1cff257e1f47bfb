"""Volumes in real guests through the real openstack CLI: hot-plug, the
guest writing to and reading from the disk, detach, delete with a volume
attached, boot from a volume, and an agent killed in the middle."""

import glob
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.fixtures.servers import VIRSH
from tests.fixtures.servers import api
from tests.fixtures.servers import wait_console
from tests.fixtures.volumes import SNAP
from tests.fixtures.volumes import VOL
from tests.fixtures.volumes import wait_status


def volume_bytes(cloud, volume_id, count=64):
    """The first bytes of the volume's backend file, as the guest wrote them."""
    path, = glob.glob(os.path.join(cloud.workdir, 'state', 'volumes',
                                   'volume-%s.*' % volume_id))
    out = os.path.join(cloud.workdir, 'peek-%s.raw' % uuid.uuid4().hex[:6])
    fmt = 'qcow2' if path.endswith('.qcow2') else 'raw'
    subprocess.run(['qemu-img', 'dd', '-U', '-f', fmt, '-O', 'raw', 'bs=512', 'count=1',
                    'if=%s' % path, 'of=%s' % out], check=True, capture_output=True)
    with open(out, 'rb') as f:
        data = f.read(count)
    os.unlink(out)
    return data


def disks(server_id):
    """{target: source} of the domain, as libvirt sees it."""
    out = subprocess.run(VIRSH + ['domblklist', 'altostack-%s' % server_id],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    return {r[0]: r[1].strip() for r in rows if len(r) == 2}


def boot(cloud, tmp_path, name, script, *extra):
    path = tmp_path / ('%s.sh' % name)
    path.write_text(script)
    return cloud.openstack('server', 'create', '--flavor', 'm1.tiny', '--nic', 'none',
                           '--user-data', str(path), *extra, name, cloud='demo',
                           json_out=True)


WRITER = """#!/bin/sh
( while [ ! -b /dev/vdb ]; do sleep 0.2; done
  printf 'MARKER-%s-END' > /dev/vdb && sync && echo "WROTE-$((40+2))" ) &
"""
READER = """#!/bin/sh
( while [ ! -b /dev/vdb ]; do sleep 0.2; done; sleep 0.5
  echo "READ:$(head -c 64 /dev/vdb | tr -dc 'A-Za-z0-9-')" ) &
"""


def volume(cloud, name, project='demo'):
    return cloud.openstack('volume', 'show', name, cloud=project, json_out=True)


def test_marker_survives_detach_reattach_and_server_delete(cloud, image, tmp_path):
    marker = uuid.uuid4().hex[:12]
    cloud.openstack('volume', 'create', '--size', '1', 'data1', cloud='demo')
    boot(cloud, tmp_path, 'vol-writer', WRITER % marker, '--image', image['id'])
    boot(cloud, tmp_path, 'vol-reader', READER, '--image', image['id'])
    wait_status(cloud, VOL, 'data1', 'available')
    for name in ('vol-writer', 'vol-reader'):
        wait_console(cloud, name, 'ALTOSTACK-READY')
    writer = cloud.openstack('server', 'show', 'vol-writer', cloud='demo', json_out=True)
    vid = volume(cloud, 'data1')['id']

    cloud.openstack('server', 'add', 'volume', 'vol-writer', 'data1', cloud='demo')
    wait_status(cloud, VOL, 'data1', 'in-use')
    wait_console(cloud, 'vol-writer', 'WROTE-42')
    # The guest sees the volume id as the serial (its disk watcher looks
    # once a second: it may speak after the writer).
    wait_console(cloud, 'vol-writer', 'serial=%s' % vid[:20], timeout=30)
    assert any(vid in src for src in disks(writer['id']).values())
    listed = cloud.openstack('server', 'volume', 'list', 'vol-writer', cloud='demo',
                             json_out=True)
    assert [(v['Volume ID'], v['Device']) for v in listed] == [(vid, '/dev/vdb')]
    shown = volume(cloud, 'data1')
    assert shown['attachments'][0]['server_id'] == writer['id']
    assert shown['attachments'][0]['device'] == '/dev/vdb'
    srv = cloud.openstack('server', 'show', 'vol-writer', cloud='demo', json_out=True)
    assert vid in str(srv['volumes_attached'])

    # in use: a second server cannot have it, and it cannot be deleted
    r = cloud.openstack('server', 'add', 'volume', 'vol-reader', 'data1', cloud='demo',
                        check=False)
    assert r.returncode == 1 and '409' in r.stderr, r.stderr
    r = cloud.openstack('volume', 'delete', 'data1', cloud='demo', check=False)
    assert r.returncode == 1 and 'Invalid volume' in r.stderr

    cloud.openstack('server', 'remove', 'volume', 'vol-writer', 'data1', cloud='demo')
    wait_status(cloud, VOL, 'data1', 'available')
    assert not any(vid in src for src in disks(writer['id']).values())
    assert volume_bytes(cloud, vid).startswith(b'MARKER-%s-END' % marker.encode())

    cloud.openstack('server', 'add', 'volume', 'vol-reader', 'data1', cloud='demo')
    wait_status(cloud, VOL, 'data1', 'in-use')
    wait_console(cloud, 'vol-reader', 'READ:MARKER-%s-END' % marker)

    # the server goes with the volume attached: the volume stays, whole
    cloud.openstack('server', 'delete', '--wait', 'vol-reader', cloud='demo')
    wait_status(cloud, VOL, 'data1', 'available')
    assert volume(cloud, 'data1')['attachments'] == []
    assert volume_bytes(cloud, vid).startswith(b'MARKER-%s-END' % marker.encode())

    # a snapshot, and a volume made from it, hold the same bytes
    cloud.openstack('volume', 'snapshot', 'create', '--volume', 'data1', 'data1-snap',
                    cloud='demo')
    wait_status(cloud, SNAP, 'data1-snap', 'available')
    cloud.openstack('volume', 'create', '--snapshot', 'data1-snap', 'data2', cloud='demo')
    wait_status(cloud, VOL, 'data2', 'available')
    assert volume_bytes(cloud, volume(cloud, 'data2')['id']) == volume_bytes(cloud, vid)

    cloud.openstack('server', 'delete', '--wait', 'vol-writer', cloud='demo')
    cloud.openstack('volume', 'delete', 'data2', cloud='demo')
    cloud.openstack('volume', 'snapshot', 'delete', 'data1-snap', cloud='demo')
    deadline = time.monotonic() + 60
    while 'data1-snap' in cloud.openstack('volume', 'snapshot', 'list', cloud='demo'):
        assert time.monotonic() < deadline, 'snapshot not deleted'
        time.sleep(1)
    cloud.openstack('volume', 'delete', 'data1', cloud='demo')


def test_attach_errors(cloud, image, tmp_path):
    boot(cloud, tmp_path, 'vol-err', '#!/bin/sh\ntrue\n', '--image', image['id'], '--wait')
    cloud.openstack('volume', 'create', '--size', '1', 'admins-vol', cloud='admin')
    wait_status(cloud, VOL, 'admins-vol', 'available', project='admin')
    admins = volume(cloud, 'admins-vol', project='admin')['id']
    # another project's volume is not found
    r = cloud.openstack('server', 'add', 'volume', 'vol-err', admins, cloud='demo',
                        check=False)
    assert r.returncode == 1 and 'No Volume found' in r.stderr, r.stderr
    srv = cloud.sdk('demo').compute.find_server('vol-err')
    r = api(cloud, 'POST', '/servers/%s/os-volume_attachments' % srv.id,
            json={'volumeAttachment': {'volumeId': admins}})
    assert r.status_code == 404 and 'could not be found' in r.text
    r = api(cloud, 'DELETE', '/servers/%s/os-volume_attachments/%s' % (srv.id, admins))
    assert r.status_code == 404
    r = api(cloud, 'POST', '/servers/%s/os-volume_attachments' % srv.id,
            json={'volumeAttachment': {}})
    assert r.status_code == 400 and 'volumeId' in r.text
    cloud.openstack('volume', 'delete', 'admins-vol', cloud='admin')
    cloud.openstack('server', 'delete', '--wait', 'vol-err', cloud='demo')


def test_boot_from_volume(cloud, image):
    srv = cloud.openstack('server', 'create', '--flavor', 'm1.tiny', '--nic', 'none',
                          '--image', image['id'], '--boot-from-volume', '1', '--wait', 'bfv1',
                          cloud='demo', json_out=True)
    assert srv['status'] == 'ACTIVE'
    wait_console(cloud, 'bfv1', 'ALTOSTACK-READY')
    vols = cloud.openstack('server', 'volume', 'list', 'bfv1', cloud='demo', json_out=True)
    assert [v['Device'] for v in vols] == ['/dev/vda']
    root = vols[0]['Volume ID']
    assert root in disks(srv['id'])['vda']  # the root disk is the volume itself
    assert volume(cloud, root)['bootable'] in (True, 'true')
    r = cloud.openstack('server', 'remove', 'volume', 'bfv1', root, cloud='demo',
                        check=False)
    assert r.returncode == 1 and 'root device' in r.stderr
    # not delete_on_termination: the volume stays and boots the next server
    cloud.openstack('server', 'delete', '--wait', 'bfv1', cloud='demo')
    wait_status(cloud, VOL, root, 'available')
    srv = cloud.openstack('server', 'create', '--flavor', 'm1.tiny', '--nic', 'none',
                          '--volume', root, '--wait', 'bfv2', cloud='demo', json_out=True)
    wait_console(cloud, 'bfv2', 'ALTOSTACK-READY')
    cloud.openstack('server', 'delete', '--wait', 'bfv2', cloud='demo')
    wait_status(cloud, VOL, root, 'available')
    cloud.openstack('volume', 'delete', root, cloud='demo')
    # delete_on_termination: the volume goes with the server
    srv = cloud.openstack('server', 'create', '--flavor', 'm1.tiny', '--nic', 'none',
                          '--image', image['id'], '--boot-from-volume', '1',
                          '--delete-on-termination', '--wait', 'bfv3', cloud='demo',
                          json_out=True)
    root = cloud.openstack('server', 'volume', 'list', 'bfv3', cloud='demo',
                           json_out=True)[0]['Volume ID']
    cloud.openstack('server', 'delete', '--wait', 'bfv3', cloud='demo')
    deadline = time.monotonic() + 60
    while root in cloud.openstack('volume', 'list', cloud='demo'):
        assert time.monotonic() < deadline, 'the root volume was not deleted with its server'
        time.sleep(1)


@pytest.mark.parametrize('when', ['before-plug'])
def test_agent_killed_during_attach_settles(cloud, image, tmp_path, when):
    boot(cloud, tmp_path, 'vol-crash', '#!/bin/sh\ntrue\n', '--image', image['id'], '--wait')
    srv = cloud.sdk('demo').compute.find_server('vol-crash')
    cloud.openstack('volume', 'create', '--size', '1', 'crashvol', cloud='demo')
    wait_status(cloud, VOL, 'crashvol', 'available')
    vid = volume(cloud, 'crashvol')['id']
    # The agent is frozen, the attach is sent (at once, while its host still
    # counts as up), then the agent dies: the volume is attaching with nobody
    # working on it.
    cloud.procs['compute'].send_signal(signal.SIGSTOP)
    try:
        r = api(cloud, 'POST', '/servers/%s/os-volume_attachments' % srv.id,
                json={'volumeAttachment': {'volumeId': vid}})
        assert r.status_code == 200, r.text
        assert volume(cloud, 'crashvol')['status'] == 'attaching'
    finally:
        cloud.kill_service('compute')
    cloud.start_service('compute')
    deadline = time.monotonic() + 90
    while volume(cloud, 'crashvol')['status'] not in ('available', 'in-use'):
        assert time.monotonic() < deadline, volume(cloud, 'crashvol')
        time.sleep(1)
    vol = volume(cloud, 'crashvol')
    in_guest = any(vol['id'] in src for src in disks(srv.id).values())
    # one truth: in-use with a live disk, or available with none
    assert in_guest == (vol['status'] == 'in-use'), (vol, disks(srv.id))
    if in_guest:
        cloud.openstack('server', 'remove', 'volume', 'vol-crash', 'crashvol', cloud='demo')
        wait_status(cloud, VOL, 'crashvol', 'available')
    cloud.openstack('server', 'delete', '--wait', 'vol-crash', cloud='demo')
    cloud.openstack('volume', 'delete', 'crashvol', cloud='demo')
