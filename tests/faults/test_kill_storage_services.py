"""Scenario 1 (issue 16), the storage services: `kill -9` of the volume
service in the middle of a volume attach and of a detach, and of the image
service in the middle of an image upload; each is started again and
everything converges: the volume ends in-use (attached, the guest has the
disk) or available, never attaching or detaching for ever; the image ends
active or queued, never saving, with no partial file; then the invariants
hold."""

import os
import threading
import time

import pytest

from tests.faults import invariants
from tests.fixtures.servers import domstate
from tests.functional.cloud import LocalCloud

SETTLE = 90  # the named convergence time of each fault, once restarted
# An upload whose image service died is given up after [image] upload_lease
# (60 s by default): shorter here, within SETTLE.
LEASE = 8


@pytest.fixture(scope='module')
def cloud():
    with LocalCloud(extra_conf='[image]\nupload_lease = %d\n' % LEASE) as c:
        c.upload_tiny_image()
        yield c


def _status(cloud, *what):
    return cloud.openstack(*what, '-f', 'value', '-c', 'status', cloud='demo').strip()


def _until_settled(cloud, what, resting, busy_seen):
    deadline = time.monotonic() + SETTLE
    while True:
        status = _status(cloud, *what)
        if status in resting:
            return status
        busy_seen.add(status)
        assert time.monotonic() < deadline, '%s still %s %d s after the restart' % (
            ' '.join(what), status, SETTLE)
        time.sleep(1)


def _kill_and_restart(cloud, service, pause=1.0):
    cloud.kill_service(service)
    killed = time.monotonic()
    time.sleep(pause)
    cloud.start_service(service)
    cloud.wait_all_up(timeout=90)
    return killed


def test_volume_service_killed_during_attach_and_detach(cloud, capsys):
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.nano', '--nic', 'none', '--wait', 'kv-vm', cloud='demo',
                          json_out=True)
    cloud.openstack('volume', 'create', '--size', '1', 'kv-vol', cloud='demo')
    _until_settled(cloud, ('volume', 'show', 'kv-vol'), ('available',), set())
    seen = set()
    cloud.openstack('server', 'add', 'volume', 'kv-vm', 'kv-vol', cloud='demo')
    killed = _kill_and_restart(cloud, 'volume')
    attach = _until_settled(cloud, ('volume', 'show', 'kv-vol'), ('in-use', 'available'),
                            seen)
    attach_s = time.monotonic() - killed
    if attach == 'available':  # the attach failed cleanly: try once more
        cloud.openstack('server', 'add', 'volume', 'kv-vm', 'kv-vol', cloud='demo')
        _until_settled(cloud, ('volume', 'show', 'kv-vol'), ('in-use',), seen)
    cloud.openstack('server', 'remove', 'volume', 'kv-vm', 'kv-vol', cloud='demo')
    killed = _kill_and_restart(cloud, 'volume')
    detach = _until_settled(cloud, ('volume', 'show', 'kv-vol'), ('in-use', 'available'),
                            seen)
    detach_s = time.monotonic() - killed
    if detach == 'in-use':  # rolled back cleanly: detach once more
        cloud.openstack('server', 'remove', 'volume', 'kv-vm', 'kv-vol', cloud='demo')
        _until_settled(cloud, ('volume', 'show', 'kv-vol'), ('available',), seen)
    assert domstate(srv['id']) == 'running'
    figures = invariants.check(cloud)
    cloud.openstack('server', 'delete', '--wait', 'kv-vm', cloud='demo')
    cloud.openstack('volume', 'delete', 'kv-vol', cloud='demo')
    deadline = time.monotonic() + 60
    while cloud.openstack('volume', 'list', '--name', 'kv-vol', '-f', 'value',
                          cloud='demo').strip():
        assert time.monotonic() < deadline, 'kv-vol not deleted'
        time.sleep(1)
    after = invariants.check(cloud)
    with capsys.disabled():
        print('\nkill -9 volume: attach ended %s %.1f s after the kill, detach ended %s '
              '%.1f s after (seen on the way: %s); invariants %.1f s, after the deletes '
              '%.1f s' % (attach, attach_s, detach, detach_s, sorted(seen),
                          figures['converged_s'], after['converged_s']))


def test_image_service_killed_during_an_upload(cloud, tmp_path, capsys):
    data = tmp_path / 'big.raw'
    with open(data, 'wb') as f:
        f.write(os.urandom(64 << 20))  # big enough to be mid-upload at the kill
    result = {}

    def upload():
        r = cloud.openstack('image', 'create', '--disk-format', 'raw', '--container-format',
                            'bare', '--file', str(data), 'ki-img', cloud='demo', check=False)
        result['rc'] = r.returncode
    t = threading.Thread(target=upload)
    t.start()
    deadline = time.monotonic() + 60
    while cloud.openstack('image', 'list', '--name', 'ki-img', '-f', 'value', '-c', 'Status',
                          cloud='demo').strip() != 'saving':
        assert t.is_alive(), 'the upload ended before it was seen saving: %s' % result
        assert time.monotonic() < deadline, 'the upload never started'
        time.sleep(0.2)
    killed = _kill_and_restart(cloud, 'image')
    t.join(120)
    seen = set()
    status = _until_settled(cloud, ('image', 'show', 'ki-img'), ('active', 'queued'), seen)
    settled_s = time.monotonic() - killed
    if status == 'queued':  # the upload was cut: its data can be sent again
        iid = cloud.openstack('image', 'show', 'ki-img', json_out=True, cloud='demo')['id']
        conn = cloud.sdk('demo')
        with open(data, 'rb') as f:
            conn.session.put('/v2/images/%s/file' % iid, endpoint_filter={
                'service_type': 'image'}, data=f,
                headers={'Content-Type': 'application/octet-stream'})
        assert _status(cloud, 'image', 'show', 'ki-img') == 'active'
    figures = invariants.check(cloud)
    cloud.openstack('image', 'delete', 'ki-img', cloud='demo')
    after = invariants.check(cloud)
    with capsys.disabled():
        print('\nkill -9 image mid-upload (client rc %s): the image %s %.1f s after the '
              'kill; invariants %.1f s, after the delete %.1f s'
              % (result.get('rc'), status, settled_s, figures['converged_s'],
                 after['converged_s']))


def test_servers_still_boot_after_the_restarts(cloud):
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.nano', '--nic', 'none', '--wait', 'kv-after', cloud='demo',
                          json_out=True)
    assert srv['status'] == 'ACTIVE'
    cloud.openstack('server', 'delete', '--wait', 'kv-after', cloud='demo')
    invariants.check(cloud)
