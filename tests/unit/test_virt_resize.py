"""LibvirtDriver.resize against libvirt's test driver, with real qemu-img
overlays: new vCPUs and memory in the definition, the root disk grown and
never shrunk, everything else kept; a failure puts the old definition back."""

import json
import os
import subprocess

import pytest

libvirt = pytest.importorskip('libvirt')

from compute.virt import exception  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import config as config_mod  # noqa: E402
from tests.fixtures.libvirt_test import NEEDS  # noqa: E402
from tests.fixtures.libvirt_test import spawn  # noqa: E402

pytestmark = NEEDS

GiB = 1024 ** 3


def disk_size(drv, inst):
    info = json.loads(subprocess.run(
        ['qemu-img', 'info', '--output=json', '-U',
         os.path.join(drv.instance_dir(inst), 'disk')],
        capture_output=True, check=True, text=True).stdout)
    return info['virtual-size']


def definition(drv, inst):
    return config_mod.parse_domain(drv.host.get_guest(inst['uuid']).get_inactive_xml_desc())


def resized(inst, vcpus, memory_mb, root_gb):
    return dict(inst, flavor=dict(inst['flavor'], vcpus=vcpus, memory_mb=memory_mb,
                                  root_gb=root_gb, name='bigger'))


def test_resize_grows_and_keeps_the_rest(drv, base):
    inst = spawn(drv, base)
    before = definition(drv, inst)
    drv.resize(None, resized(inst, 2, 256, 2), [])
    after = definition(drv, inst)
    assert (after['vcpus'], after['memory_kib']) == (2, 256 * 1024)
    for key in ('disks', 'interfaces', 'serial_tcp', 'console_log', 'name', 'uuid'):
        assert after[key] == before[key]
    assert disk_size(drv, inst) == 2 * GiB
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    assert drv.get_instance_metadata(inst['uuid'])['flavor']['vcpus'] == 2


def test_revert_never_shrinks_the_disk_and_can_leave_it_off(drv, base):
    inst = spawn(drv, base)
    drv.resize(None, resized(inst, 2, 256, 2), [])
    drv.resize(None, inst, [], power_on=False)
    after = definition(drv, inst)
    assert (after['vcpus'], after['memory_kib']) == (
        inst['flavor']['vcpus'], inst['flavor']['memory_mb'] * 1024)
    assert disk_size(drv, inst) == 2 * GiB
    assert drv.get_info(inst)['state'] == power_state.SHUTDOWN


def test_failed_resize_puts_the_old_definition_back(drv, base, monkeypatch):
    inst = spawn(drv, base)
    before = definition(drv, inst)
    calls = []
    real = libvirt.virDomain.create

    def fails_once(self, *a):
        calls.append(1)
        if len(calls) == 1:
            raise libvirt.libvirtError('no start')
        return real(self, *a)
    monkeypatch.setattr(libvirt.virDomain, 'create', fails_once)
    with pytest.raises(exception.VirtError):
        drv.resize(None, resized(inst, 2, 256, 1), [])
    after = definition(drv, inst)
    assert (after['vcpus'], after['memory_kib']) == (before['vcpus'], before['memory_kib'])
    assert drv.get_info(inst)['state'] == power_state.RUNNING
