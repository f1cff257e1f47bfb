"""The libvirt side of a cold move with the real qemu-img and qemu-nbd on
loopback: a stopped guest's disk exported read-only, copied into another
instance dir as a standalone qcow2 holding the same bytes and grown; the
export ends, also when only its pid file is left (an agent restarted)."""

import os
import shutil
import subprocess

import pytest

from common.host import disk
from compute.virt.libvirt import cold_migration as migration

pytestmark = pytest.mark.skipif(not (shutil.which('qemu-nbd') and shutil.which('qemu-img')),
                                reason='needs qemu-nbd and qemu-img')
UUID = '0f0c6a52-7a4e-4d36-9a5f-000000000009'


class Host(migration.ColdMoves):
    def __init__(self, path):
        self.path = path

    def instance_dir(self, uuid):
        return os.path.join(self.path, uuid)


def exports(host):
    """pids of the exports of this test's disk."""
    r = subprocess.run(['pgrep', '-f', 'qemu-nbd --read-only.*' + host.instance_dir(UUID)],
                       capture_output=True, text=True)
    return r.stdout.split()


@pytest.fixture
def source(tmp_path):
    host = Host(str(tmp_path / 'a'))
    os.makedirs(host.instance_dir(UUID))
    path = os.path.join(host.instance_dir(UUID), 'disk')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '64M'], check=True)
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 1M 64k', path],
                   check=True, capture_output=True)
    return host


def test_export_copy_and_grow(source, tmp_path):
    inst = {'uuid': UUID}
    url = source.export_root_disk(inst, '127.0.0.1', 60)
    assert url.startswith('nbd://127.0.0.1:')
    try:
        dest = str(tmp_path / 'b-disk')
        disk.copy_from_nbd(url, dest)
    finally:
        source.end_export(inst)
    assert disk.read_qcow2_header(dest)['backing_file'] is None  # standalone
    assert disk.grow(dest, 128 * 1024 * 1024)
    info = disk.image_info(dest, 'qcow2')
    assert info['virtual-size'] == 128 * 1024 * 1024 and 'backing-filename' not in info
    cmp = subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'read -P 0x5a 1M 64k', dest],
                         capture_output=True, text=True)
    assert 'Pattern verification failed' not in cmp.stdout, cmp.stdout
    assert not os.path.exists(os.path.join(source.instance_dir(UUID), migration.EXPORT_PIDFILE))


def test_an_export_left_by_an_earlier_run_is_ended(source):
    inst = {'uuid': UUID}
    url = source.export_root_disk(inst, '127.0.0.1', 60)
    assert url
    assert exports(source)
    source._exports.clear()  # as after a restart: only the pid file tells
    Host(source.path).end_export(inst)
    assert exports(source) == []


def test_no_local_disk_no_export(tmp_path):
    host = Host(str(tmp_path))
    os.makedirs(host.instance_dir(UUID))
    assert host.export_root_disk({'uuid': UUID}, '127.0.0.1', 60) is None
