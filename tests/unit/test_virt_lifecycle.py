"""LibvirtDriver pause/unpause, suspend/resume (managed save) and rebuild
against libvirt's test driver, with real qemu-img overlays."""

import json
import os
import subprocess
import time

import pytest

libvirt = pytest.importorskip('libvirt')

from compute.virt import exception  # noqa: E402
from compute.virt import power_state  # noqa: E402
from tests.fixtures.libvirt_test import NEEDS  # noqa: E402
from tests.fixtures.libvirt_test import spawn  # noqa: E402

pytestmark = NEEDS


def state(drv, inst):
    return drv.get_info(inst)['state']


def backing(drv, inst):
    info = json.loads(subprocess.run(
        ['qemu-img', 'info', '--output=json', '-U',
         os.path.join(drv.instance_dir(inst), 'disk')],
        capture_output=True, check=True, text=True).stdout)
    return info['backing-filename']


@pytest.fixture
def base2(tmp_path):
    path = tmp_path / 'base2.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(path), '16M'], check=True)
    return str(path)


def test_pause_and_unpause(drv, base):
    inst = spawn(drv, base)
    drv.pause(inst)
    assert state(drv, inst) == power_state.PAUSED
    drv.pause(inst)  # paused already: fine
    drv.unpause(inst)
    assert state(drv, inst) == power_state.RUNNING
    drv.unpause(inst)  # running already: fine


def test_suspend_is_a_managed_save_and_resume_restores(drv, base):
    inst = spawn(drv, base)
    drv.suspend(None, inst)
    guest = drv.host.get_guest(inst['uuid'])
    assert not guest.is_active() and guest.has_managed_save()
    assert state(drv, inst) == power_state.SUSPENDED
    drv.suspend(None, inst)  # suspended already: fine
    drv.resume(None, inst, [])
    assert state(drv, inst) == power_state.RUNNING
    assert not guest.has_managed_save()
    drv.resume(None, inst, [])  # running: fine


def test_hard_reboot_of_a_suspended_guest_boots_afresh(drv, base):
    inst = spawn(drv, base)
    drv.suspend(None, inst)
    drv.reboot(None, inst, [], 'HARD')
    guest = drv.host.get_guest(inst['uuid'])
    assert state(drv, inst) == power_state.RUNNING and not guest.has_managed_save()


def test_destroy_of_a_suspended_guest(drv, base):
    inst = spawn(drv, base)
    drv.suspend(None, inst)
    drv.destroy(None, inst)
    assert not drv.instance_exists(inst)


def test_rebuild_makes_a_new_root_disk(drv, base, base2):
    inst = spawn(drv, base)
    disk = os.path.join(drv.instance_dir(inst), 'disk')
    before = os.stat(disk).st_ino
    new = dict(inst, image_ref='img-2')
    drv.rebuild(None, new, {'id': 'img-2', 'disk_format': 'qcow2'}, base2, [])
    assert backing(drv, inst) == base2 and os.stat(disk).st_ino != before
    assert state(drv, inst) == power_state.RUNNING
    assert drv.get_instance_metadata(inst['uuid'])['image_id'] == 'img-2'
    assert sorted(os.listdir(drv.instance_dir(inst))) == ['disk', 'disk.config']


def test_rebuild_of_a_stopped_guest_leaves_it_off(drv, base, base2):
    inst = spawn(drv, base)
    drv.power_off(inst, timeout=0)
    drv.rebuild(None, inst, {'id': 'img-2', 'disk_format': 'qcow2'}, base2, [],
                power_on=False)
    assert backing(drv, inst) == base2
    assert state(drv, inst) == power_state.SHUTDOWN


def test_failed_rebuild_keeps_the_old_disk_and_runs_on(drv, base, tmp_path):
    inst = spawn(drv, base)
    with pytest.raises(exception.VirtError):
        drv.rebuild(None, inst, {'id': 'img-2', 'disk_format': 'qcow2'},
                    str(tmp_path / 'missing'), [])
    assert backing(drv, inst) == base
    assert state(drv, inst) == power_state.RUNNING
    assert sorted(os.listdir(drv.instance_dir(inst))) == ['disk', 'disk.config']


def test_rebuilt_guest_that_does_not_start(drv, base, base2, monkeypatch):
    inst = spawn(drv, base)

    def broken(self, *a):
        raise libvirt.libvirtError('no start')
    monkeypatch.setattr(libvirt.virDomain, 'create', broken)
    with pytest.raises(exception.RebuiltNotStarted):
        drv.rebuild(None, inst, {'id': 'img-2', 'disk_format': 'qcow2'}, base2, [])
    assert backing(drv, inst) == base2
    assert state(drv, inst) == power_state.SHUTDOWN


def test_operations_on_a_missing_instance(drv, base):
    inst = spawn(drv, base)
    drv.destroy(None, inst)
    for call in (lambda: drv.pause(inst), lambda: drv.unpause(inst),
                 lambda: drv.suspend(None, inst), lambda: drv.resume(None, inst, []),
                 lambda: drv.rebuild(None, inst, {'id': 'i', 'disk_format': 'qcow2'},
                                     base, [])):
        with pytest.raises(exception.GuestNotFound):
            call()


def test_lifecycle_events_of_pause_and_managed_save(drv, base):
    seen = []
    drv.set_lifecycle_handler(lambda uuid, st: seen.append((uuid, st)))
    inst = spawn(drv, base)
    drv.pause(inst)
    drv.unpause(inst)
    drv.suspend(None, inst)
    want = [(inst['uuid'], s) for s in (power_state.PAUSED, power_state.RUNNING,
                                         power_state.SUSPENDED)]
    deadline = time.monotonic() + 5
    while not all(w in seen for w in want) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(w in seen for w in want), seen
    assert (inst['uuid'], power_state.SHUTDOWN) not in seen
