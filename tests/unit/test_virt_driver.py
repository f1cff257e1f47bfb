"""The driver interface pieces: registry, fake driver contract, VIF
drivers, power states, config options, disk helpers."""

import uuid
from xml.etree import ElementTree as ET

import pytest
from oslo_config import cfg

from common.conf import CONF
from common.conf import compute as compute_conf
from common.host import disk
from compute.virt import driver
from compute.virt import exception
from compute.virt import fake
from compute.virt import power_state
from compute.virt import vif

try:
    compute_conf.register_opts(CONF)
except cfg.DuplicateOptError:
    pass


def make_instance():
    return {'uuid': str(uuid.uuid4()), 'name': 'a', 'hostname': 'a', 'project_id': 'p',
            'user_id': 'u', 'image_ref': 'i',
            'flavor': {'name': 'f', 'vcpus': 2, 'memory_mb': 256, 'root_gb': 1,
                       'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}},
            'metadata': {}}


def test_power_state_numbers_are_novas():
    assert (power_state.NOSTATE, power_state.RUNNING, power_state.PAUSED,
            power_state.SHUTDOWN, power_state.CRASHED, power_state.SUSPENDED) == \
        (0, 1, 3, 4, 6, 7)


def test_compute_options_and_defaults():
    c = CONF.compute
    assert c.virt_type == 'qemu' and c.libvirt_uri == 'qemu:///system'
    assert c.instances_path.endswith('/instances')
    assert c.image_cache_subdir == '_base'
    assert c.remove_unused_base_images is True
    assert c.remove_unused_original_minimum_age_seconds == 3600
    assert (c.console_host, c.console_port_min, c.console_port_max) == \
        ('127.0.0.1', 10000, 10999)
    assert (c.reserved_host_memory_mb, c.reserved_host_disk_mb, c.reserved_host_cpus) == \
        (512, 0, 0)
    assert c.shutdown_timeout == 60 and c.config_drive_format == 'iso9660'
    assert [g.name for g in compute_conf.list_opts()] == ['compute']


def test_every_driver_declares_every_capability():
    assert isinstance(driver.load_driver('fake'), fake.FakeDriver)
    assert set(fake.FakeDriver.capabilities) == set(driver.ComputeDriver.capabilities)
    with pytest.raises(KeyError):
        driver.load_driver('nope')


def test_fake_driver_contract():
    d = fake.FakeDriver()
    inst = make_instance()
    d.fail_next_spawn = exception.InstanceSpawnFailure(instance_id=inst['uuid'], reason='x')
    with pytest.raises(exception.InstanceSpawnFailure):
        d.spawn(None, inst, {}, '/b', [])
    assert not d.instance_exists(inst)
    d.spawn(None, inst, {}, '/b', [])
    with pytest.raises(exception.InstanceExists):
        d.spawn(None, inst, {}, '/b', [])
    assert d.get_info(inst) == {'state': power_state.RUNNING}
    d.power_off(inst)
    assert d.get_info(inst) == {'state': power_state.SHUTDOWN}
    with pytest.raises(exception.ConsoleNotAvailable):
        d.get_serial_console(inst)
    d.power_on(None, inst, [])
    assert d.get_serial_console(inst)['port'] == 10000
    assert d.list_instance_uuids() == [inst['uuid']]
    assert d.list_instances()[0]['metadata']['project_id'] == 'p'
    assert d.get_available_resource()['vcpus_used'] == 2
    d.destroy(None, inst)
    d.destroy(None, inst)
    with pytest.raises(exception.GuestNotFound):
        d.get_info(inst)


def test_noop_vif_driver_gives_no_nic():
    v = vif.get_vif_driver('noop')
    v.plug({}, {'id': 'x'})
    v.unplug({}, {'id': 'x'})
    assert v.guest_interface_xml({'id': 'x', 'address': 'm'}) is None


def test_bridge_vif_driver_xml():
    v = vif.get_vif_driver('bridge')
    xml = v.guest_interface_xml({'id': 'p1', 'address': '52:54:00:aa:bb:cc', 'devname': 'tap1',
                                 'network': {'bridge': 'br0', 'mtu': 1450}})
    el = ET.fromstring(xml)
    assert el.get('type') == 'bridge'
    assert el.find('mac').get('address') == '52:54:00:aa:bb:cc'
    assert el.find('source').get('bridge') == 'br0'
    assert el.find('model').get('type') == 'virtio'
    assert el.find('target').get('dev') == 'tap1'
    assert el.find('mtu').get('size') == '1450'
    assert v.guest_interface_xml({'id': 'p', 'address': 'm', 'network': {}}) is None


def test_qcow2_header_reader(tmp_path):
    base = tmp_path / 'base.raw'
    base.write_bytes(b'\0' * 65536)
    overlay = tmp_path / 'disk'
    disk.create_overlay(str(base), 'raw', str(overlay), 3 * 1024 ** 2)
    assert disk.read_qcow2_header(str(overlay)) == {'virtual_size': 3 * 1024 ** 2,
                                                     'backing_file': str(base)}
    assert disk.read_qcow2_header(str(base)) is None
    assert disk.read_qcow2_header(str(tmp_path / 'missing')) is None
    info = disk.image_info(str(overlay), 'qcow2')
    assert info['virtual-size'] == 3 * 1024 ** 2


def test_overlay_of_unsupported_format_refused(tmp_path):
    with pytest.raises(exception.NotSupported):
        disk.create_overlay('/x', 'vmdk', str(tmp_path / 'd'))


def test_qemu_img_errors_become_virt_errors(tmp_path):
    with pytest.raises(exception.VirtError, match='qemu-img info failed'):
        disk.image_info(str(tmp_path / 'missing'), 'qcow2')


def test_direct_io_probe(tmp_path):
    assert disk.supports_direct_io(str(tmp_path)) in (True, False)
    assert not list(tmp_path.iterdir())
