"""Scenario 4 of the faults suite (issue 16): the disk fills up under the
image store during an upload and under the volumes folder during a volume
create. Each folder is a tmpfs of a few MiB of the test's own ([image]
store_path, [volume] volumes_dir), filled by a file so that exactly the
room we want is left.

Expected, as the real services behave: Glance answers 413 "Image storage
media is full" and the image is queued again (never left saving); Cinder
puts the volume in error (never left creating) with a user message that
says why (GET /messages); no partial file stays in
either folder; once the filler is gone, the same upload and create work.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.functional.cloud import LocalCloud

MiB = 1024 * 1024
FS_MIB = 24             # each tmpfs
DATA_MIB = 8            # the image's bytes
CONVERGE = 60           # seconds a failed volume create may take to reach error


@contextlib.contextmanager
def tmpfs(path, mib):
    os.makedirs(path)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm,mode=0750' % mib,
                    'altostack-test-full', path], check=True)
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', path], check=False)
        os.rmdir(path)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@contextlib.contextmanager
def filled(path, leave):
    """The filesystem of ``path`` full but for ``leave`` bytes."""
    filler = os.path.join(path, 'filler')
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.posix_fallocate(fd, 0, free_bytes(path) - leave)
    finally:
        os.close(fd)
    try:
        yield
    finally:
        os.unlink(filler)


def leftovers(path):
    """Every file under ``path`` but the filler and the empty folders."""
    found = []
    for root, _dirs, files in os.walk(path):
        found += [os.path.relpath(os.path.join(root, f), path) for f in files
                  if f != 'filler']
    return sorted(found)


@pytest.fixture(scope='module')
def disks():
    top = tempfile.mkdtemp(prefix='altostack-test-disks-')
    try:
        with tmpfs(os.path.join(top, 'images'), FS_MIB) as images, \
                tmpfs(os.path.join(top, 'volumes'), FS_MIB) as volumes:
            yield {'images': images, 'volumes': volumes}
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope='module')
def cloud(disks):
    conf = '[image]\nstore_path = %s\n[volume]\nvolumes_dir = %s\n' % (
        disks['images'], disks['volumes'])
    with LocalCloud(extra_conf=conf) as c:
        yield c


@pytest.fixture(scope='module')
def blob():
    return os.urandom(DATA_MIB * MiB)


def put_data(conn, image_id, data):
    return conn.image.put('/images/%s/file' % image_id, data=data,
                          headers={'Content-Type': 'application/octet-stream'})


def new_image(cloud):
    """A queued image (the CLI would upload its stdin when given no file)."""
    image = cloud.sdk().image.create_image(name='full-%s' % uuid.uuid4().hex[:6],
                                           disk_format='raw', container_format='bare')
    assert image.status == 'queued'
    return image.id


def image_status(cloud, image_id):
    return cloud.openstack('image', 'show', image_id, json_out=True)['status']


@pytest.mark.parametrize('leave_mib,where', [
    (3, 'while the body is received'),          # the spool beside the store fills
    (12, 'while the store writes it'),          # the body fits, its copy does not
])
def test_upload_into_a_full_image_store(cloud, disks, blob, leave_mib, where):
    conn = cloud.sdk()
    image_id = new_image(cloud)
    with filled(disks['images'], leave_mib * MiB):
        r = put_data(conn, image_id, blob)
        assert r.status_code == 413, (where, r.status_code, r.text)
        assert 'Image storage media is full' in r.text, r.text
        assert 'Traceback' not in r.text
        assert image_status(cloud, image_id) == 'queued'     # never left saving
        assert leftovers(disks['images']) == []              # no partial file
    # room again: the same image takes the same data
    r = put_data(conn, image_id, blob)
    assert r.status_code == 204, r.text
    shown = cloud.openstack('image', 'show', image_id, json_out=True)
    assert shown['status'] == 'active' and shown['size'] == len(blob)
    assert leftovers(disks['images']) == [image_id]
    cloud.openstack('image', 'delete', image_id)
    assert leftovers(disks['images']) == []


def wait_volume(cloud, volume_id, timeout=CONVERGE):
    deadline = time.monotonic() + timeout
    while True:
        vol = cloud.openstack('volume', 'show', volume_id, json_out=True)
        if vol['status'] not in ('creating', 'downloading'):
            return vol
        assert time.monotonic() < deadline, 'volume %s still %s after %d s' % (
            volume_id, vol['status'], timeout)
        time.sleep(1)


def create_volume(cloud, *args):
    return cloud.openstack('volume', 'create', '--size', '1', *args,
                           'full-%s' % uuid.uuid4().hex[:6], json_out=True)['id']


@pytest.fixture(scope='module')
def data_image(cloud, blob):
    """An active raw image of DATA_MIB random MiB (the store has room)."""
    image_id = new_image(cloud)
    assert put_data(cloud.sdk(), image_id, blob).status_code == 204
    yield image_id
    cloud.openstack('image', 'delete', image_id)


@pytest.mark.parametrize('leave_mib,where', [
    (4, 'while the image is downloaded'),
    (12, 'while the image is converted into the volume'),  # download fits, copy does not
])
def test_volume_create_into_a_full_volumes_dir(cloud, disks, data_image, leave_mib, where):
    with filled(disks['volumes'], leave_mib * MiB):
        started = time.monotonic()
        vid = create_volume(cloud, '--image', data_image)
        vol = wait_volume(cloud, vid)
        print('\nvolume create %s: %s after %.1f s' % (where, vol['status'],
                                                      time.monotonic() - started))
        assert vol['status'] == 'error', (where, vol)
        # Cinder's user message says why (GET /messages, 3.3)
        said = [m['User Message'] for m in cloud.openstack(
            '--os-volume-api-version', '3.3', 'volume', 'message', 'list', json_out=True)
            if m['Resource UUID'] == vid]
        assert said == ['create volume from image: not enough space left in the volume '
                        'backend.'], said
        assert leftovers(disks['volumes']) == []              # no partial file
        stuck = [v for v in cloud.openstack('volume', 'list', '--long', json_out=True)
                 if v['Status'] in ('creating', 'downloading', 'deleting')]
        assert stuck == []
    # room again: the same create works, and the failed volume can go
    good = create_volume(cloud, '--image', data_image)
    assert wait_volume(cloud, good)['status'] == 'available'
    blank = create_volume(cloud)
    assert wait_volume(cloud, blank)['status'] == 'available'
    assert sorted(leftovers(disks['volumes'])) == sorted(
        'volume-%s.qcow2' % v for v in (good, blank))
    cloud.openstack('volume', 'delete', vid, good, blank)
    deadline = time.monotonic() + CONVERGE
    while leftovers(disks['volumes']) and time.monotonic() < deadline:
        time.sleep(1)
    assert leftovers(disks['volumes']) == []
