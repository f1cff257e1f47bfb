"""LibvirtDriver, Host and Guest against libvirt's test driver (no
daemon), with real qemu-img overlays and real genisoimage config drives.

Each test gets its own test:///<node.xml> connection: test:///default is
shared by every connection of the process while one is open, a node file
is private to its connection.
"""

import json
import os
import socket
import subprocess
import threading
import time
import uuid as uuid_mod

import pytest

libvirt = pytest.importorskip('libvirt')

from oslo_config import cfg  # noqa: E402

from common.conf import CONF  # noqa: E402
from common.conf import compute as compute_conf  # noqa: E402
from compute.virt import driver as driver_mod  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import guest as guest_mod  # noqa: E402
from compute.virt.libvirt import host as host_mod  # noqa: E402
from tests.fixtures.libvirt_test import IMAGE  # noqa: E402
from tests.fixtures.libvirt_test import NEEDS  # noqa: E402
from tests.fixtures.libvirt_test import VIF  # noqa: E402
from tests.fixtures.libvirt_test import leftovers  # noqa: E402
from tests.fixtures.libvirt_test import make_instance  # noqa: E402
from tests.fixtures.libvirt_test import spawn  # noqa: E402

pytestmark = NEEDS


try:
    compute_conf.register_opts(CONF)
except cfg.DuplicateOptError:
    pass


# -- spawn and destroy --------------------------------------------------------

def test_spawn_defines_and_starts_with_files_in_place(drv, base):
    inst = spawn(drv, base)
    assert drv.get_info(inst) == {'state': power_state.RUNNING}
    inst_dir = drv.instance_dir(inst)
    assert sorted(os.listdir(inst_dir)) == ['disk', 'disk.config']
    info = json.loads(subprocess.run(['qemu-img', 'info', '--output=json', '-U',
                                      os.path.join(inst_dir, 'disk')],
                                     capture_output=True, check=True, text=True).stdout)
    assert info['virtual-size'] == 1024 ** 3  # grown to the flavor's root_gb
    assert info['backing-filename'] == base
    assert info['backing-filename-format'] == 'qcow2'
    guest = drv.host.get_guest(inst['uuid'])
    assert guest.name == 'altostack-' + inst['uuid']
    lo = CONF.compute.console_port_min
    assert drv.get_serial_console(inst) == {'host': '127.0.0.1', 'port': lo}
    assert drv.ports.reserved == set()
    assert set(drv.timings) >= {'overlay', 'config_drive', 'define_start', 'total'}


def test_root_gb_zero_keeps_the_image_size(drv, base):
    inst = spawn(drv, base, flavor=dict(make_instance()['flavor'], root_gb=0))
    header = libvirt_driver.disk.read_qcow2_header(os.path.join(drv.instance_dir(inst), 'disk'))
    assert header['virtual_size'] == 16 * 1024 ** 2


def test_flavor_disk_smaller_than_image_fails_and_leaves_nothing(drv, tmp_path):
    big = tmp_path / 'big.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(big), '2G'], check=True)
    inst = make_instance()
    with pytest.raises(exception.FlavorDiskSmallerThanImage):
        drv.spawn(None, inst, IMAGE, str(big), [])
    assert leftovers(drv, inst) == {'domain': False, 'dir': False, 'ports': set()}


def test_raw_base_is_used_as_raw_backing(drv, tmp_path):
    raw = tmp_path / 'base.raw'
    raw.write_bytes(b'\0' * 1024 * 1024)
    inst = make_instance()
    drv.spawn(None, inst, {'id': 'img-raw', 'disk_format': 'raw'}, str(raw), [])
    header = libvirt_driver.disk.read_qcow2_header(os.path.join(drv.instance_dir(inst), 'disk'))
    assert header['backing_file'] == str(raw)


def test_unsupported_image_format_is_refused_before_anything(drv, base):
    inst = make_instance()
    with pytest.raises(exception.ImageUnacceptable):
        drv.spawn(None, inst, {'id': 'x', 'disk_format': 'vmdk'}, base, [])
    assert leftovers(drv, inst) == {'domain': False, 'dir': False, 'ports': set()}


@pytest.mark.parametrize('where', ['configdrive', 'define', 'launch'])
def test_failed_spawn_leaves_nothing_behind(drv, base, monkeypatch, where):
    def boom(*_a, **_kw):
        raise RuntimeError('injected failure at %s' % where)
    if where == 'configdrive':
        monkeypatch.setattr(libvirt_driver.configdrive, 'build', boom)
    elif where == 'define':
        monkeypatch.setattr(drv.host, 'define', boom)
    else:
        monkeypatch.setattr(guest_mod.Guest, 'launch', boom)
    inst = make_instance()
    with pytest.raises(exception.InstanceSpawnFailure, match='injected failure'):
        drv.spawn(None, inst, IMAGE, base, [VIF])
    assert leftovers(drv, inst) == {'domain': False, 'dir': False, 'ports': set()}
    assert drv.vif_driver.plugged == {}
    assert inst['uuid'] not in drv.list_instance_uuids()


def test_spawn_twice_is_refused(drv, base):
    inst = spawn(drv, base)
    with pytest.raises(exception.InstanceExists):
        drv.spawn(None, inst, IMAGE, base, [])
    assert drv.get_info(inst)['state'] == power_state.RUNNING  # the first one untouched


def test_stale_instance_dir_from_a_crashed_attempt_is_replaced(drv, base):
    inst = make_instance()
    os.makedirs(drv.instance_dir(inst))
    with open(os.path.join(drv.instance_dir(inst), 'junk'), 'w') as f:
        f.write('x')
    drv.spawn(None, inst, IMAGE, base, [])
    assert 'junk' not in os.listdir(drv.instance_dir(inst))


def test_volumes_are_not_supported_yet(drv, base):
    inst = make_instance()
    with pytest.raises(exception.NotSupported):
        drv.spawn(None, inst, IMAGE, base, [], {'block_device_mapping': [{'x': 1}]})


def test_vifs_plugged_and_unplugged(drv, base):
    inst = make_instance()
    drv.spawn(None, inst, IMAGE, base, [VIF])
    assert drv.vif_driver.plugged == {'port-1': inst['uuid']}
    iface = drv.host.get_guest(inst['uuid']).get_xml_desc()
    assert "52:54:00:12:34:56" in iface and 'br-test' in iface
    drv.destroy(None, inst, [VIF])
    assert drv.vif_driver.plugged == {}


def test_destroy_removes_everything_and_is_idempotent(drv, base):
    inst = spawn(drv, base)
    drv.destroy(None, inst)
    assert leftovers(drv, inst) == {'domain': False, 'dir': False, 'ports': set()}
    with pytest.raises(exception.GuestNotFound):
        drv.get_info(inst)
    drv.destroy(None, inst)  # again: fine


def test_destroy_without_cleanup_keeps_files(drv, base):
    inst = spawn(drv, base)
    drv.destroy(None, inst, cleanup=False)
    assert not drv.instance_exists(inst)
    assert os.path.exists(os.path.join(drv.instance_dir(inst), 'disk'))


def test_destroy_of_a_stopped_guest(drv, base):
    inst = spawn(drv, base)
    drv.power_off(inst, timeout=0)
    drv.destroy(None, inst)
    assert not drv.instance_exists(inst)


# -- ports ----------------------------------------------------------------------

def test_each_guest_gets_its_own_port_and_destroy_frees_it(drv, base):
    lo = CONF.compute.console_port_min
    a, b = spawn(drv, base), spawn(drv, base)
    assert drv.get_serial_console(a)['port'] == lo
    assert drv.get_serial_console(b)['port'] == lo + 1
    drv.power_off(a, timeout=0)  # a stopped guest keeps its port
    c = spawn(drv, base)
    assert drv.get_serial_console(c)['port'] == lo + 2
    drv.destroy(None, a)
    d = spawn(drv, base)
    assert drv.get_serial_console(d)['port'] == lo


def test_busy_port_is_skipped(drv, base):
    lo = CONF.compute.console_port_min
    with socket.socket() as s:
        s.bind(('127.0.0.1', lo))
        s.listen(1)
        inst = spawn(drv, base)
    assert drv.get_serial_console(inst)['port'] == lo + 1


def test_no_free_port_fails_cleanly(drv, base):
    lo = CONF.compute.console_port_min
    CONF.set_override('console_port_max', lo, 'compute')
    d = libvirt_driver.LibvirtDriver()
    d.host = drv.host  # same test connection
    d.ports._used_ports = d._domain_console_ports
    spawn(d, base)
    inst = make_instance()
    with pytest.raises(exception.NoFreeConsolePort):
        d.spawn(None, inst, IMAGE, base, [])
    assert leftovers(d, inst) == {'domain': False, 'dir': False, 'ports': set()}


def test_concurrent_spawns_get_distinct_ports(drv, base):
    insts = [make_instance() for _ in range(4)]
    errors = []

    def go(i):
        try:
            drv.spawn(None, i, IMAGE, base, [])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=go, args=(i,)) for i in insts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    ports = {drv.get_serial_console(i)['port'] for i in insts}
    assert len(ports) == 4


# -- power ----------------------------------------------------------------------

def test_power_off_graceful_and_on(drv, base):
    inst = spawn(drv, base)
    assert drv.power_off(inst) == 'graceful'
    assert drv.get_info(inst)['state'] == power_state.SHUTDOWN
    assert drv.power_off(inst) == 'off'  # already off
    with pytest.raises(exception.ConsoleNotAvailable):
        drv.get_serial_console(inst)
    drv.power_on(None, inst, [])
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    drv.power_on(None, inst, [])  # already on: fine


def test_power_off_forces_a_guest_that_ignores_acpi(drv, base, monkeypatch):
    inst = spawn(drv, base)
    monkeypatch.setattr(libvirt.virDomain, 'shutdown', lambda self, *a: 0)
    t0 = time.monotonic()
    assert drv.power_off(inst, timeout=0.5) == 'forced'
    assert 0.4 < time.monotonic() - t0 < 5
    assert drv.get_info(inst)['state'] == power_state.SHUTDOWN


def test_power_off_timeout_zero_pulls_the_plug(drv, base, monkeypatch):
    inst = spawn(drv, base)
    asked = []
    monkeypatch.setattr(libvirt.virDomain, 'shutdown', lambda self, *a: asked.append(1))
    assert drv.power_off(inst, timeout=0) == 'forced'
    assert asked == []


def test_reboot_soft_and_hard(drv, base, monkeypatch):
    inst = spawn(drv, base)
    assert drv.reboot(None, inst, [], 'SOFT') == 'soft'
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    assert drv.reboot(None, inst, [], 'HARD') == 'hard'
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    monkeypatch.setattr(libvirt.virDomain, 'shutdown', lambda self, *a: 0)
    assert drv.reboot(None, inst, [], 'SOFT') == 'hard'  # fell back after the timeout
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    with pytest.raises(exception.NotSupported):
        drv.reboot(None, inst, [], 'SIDEWAYS')


def test_hard_reboot_starts_a_stopped_guest(drv, base):
    inst = spawn(drv, base)
    drv.power_off(inst, timeout=0)
    drv.reboot(None, inst, [], 'HARD')
    assert drv.get_info(inst)['state'] == power_state.RUNNING


def test_power_state_mapping(drv, base):
    inst = spawn(drv, base)
    dom = drv.host.get_connection().lookupByUUIDString(inst['uuid'])
    dom.suspend()
    assert drv.get_info(inst)['state'] == power_state.PAUSED
    dom.resume()
    assert drv.get_info(inst)['state'] == power_state.RUNNING
    assert guest_mod.LIBVIRT_POWER_STATE[libvirt.VIR_DOMAIN_SHUTDOWN] == power_state.RUNNING
    assert guest_mod.LIBVIRT_POWER_STATE[libvirt.VIR_DOMAIN_CRASHED] == power_state.CRASHED
    assert guest_mod.LIBVIRT_POWER_STATE[libvirt.VIR_DOMAIN_PMSUSPENDED] == \
        power_state.SUSPENDED


def test_libvirt_errors_become_virt_errors(drv, base, monkeypatch):
    inst = spawn(drv, base)

    def broken(self, *a):
        raise libvirt.libvirtError('broken')
    monkeypatch.setattr(libvirt.virDomain, 'create', broken)
    monkeypatch.setattr(libvirt.virDomain, 'state', broken)
    drv.power_off(inst, timeout=0)
    with pytest.raises(exception.VirtError):
        drv.power_on(None, inst, [])
    with pytest.raises(exception.VirtError):
        drv.get_info(inst)


def test_operations_on_a_missing_instance(drv):
    inst = make_instance()
    for call in (lambda: drv.get_info(inst), lambda: drv.power_off(inst),
                 lambda: drv.power_on(None, inst, []),
                 lambda: drv.reboot(None, inst, [], 'HARD'),
                 lambda: drv.get_serial_console(inst),
                 lambda: drv.get_console_output(inst)):
        with pytest.raises(exception.GuestNotFound):
            call()
    assert drv.instance_exists(inst) is False


# -- console output ------------------------------------------------------------------

def test_console_output_tail(drv, base):
    inst = spawn(drv, base)
    assert drv.get_console_output(inst) == ''  # the test driver writes no log
    with open(os.path.join(drv.instance_dir(inst), 'console.log'), 'wb') as f:
        f.write(b'first boot\n' + b'x' * 10 + 'READY h\u00e9\n'.encode())
    assert drv.get_console_output(inst).startswith('first boot')
    assert drv.get_console_output(inst, max_bytes=10) == 'READY h\u00e9\n'


# -- inventory, metadata, resources -----------------------------------------------

def test_list_instances_only_ours_with_metadata(drv, base):
    inst = spawn(drv, base, name='display name')
    conn = drv.host.get_connection()
    assert 'foreign' in [d.name() for d in conn.listAllDomains(0)]  # not ours
    assert drv.list_instance_uuids() == [inst['uuid']]
    listed = drv.list_instances()
    assert len(listed) == 1
    md = listed[0]['metadata']
    assert listed[0]['power_state'] == power_state.RUNNING
    assert md['name'] == 'display name' and md['project_id'] == 'p1'
    assert md['user_id'] == 'u1' and md['image_id'] == 'img-1'
    assert md['created_at'] == '2025-01-01T00:00:00Z'
    assert md['flavor']['name'] == 'm1.tiny' and md['flavor']['memory_mb'] == 128
    assert drv.get_instance_metadata(inst['uuid']) == md


def test_a_renamed_domain_with_our_metadata_is_still_ours(drv, base):
    inst = spawn(drv, base)
    xml = drv.host.get_guest(inst['uuid']).get_xml_desc()
    other = str(uuid_mod.uuid4())
    xml = xml.replace('altostack-' + inst['uuid'], 'renamed').replace(inst['uuid'], other)
    drv.host.get_connection().defineXML(xml)
    assert sorted(drv.list_instance_uuids()) == sorted([inst['uuid'], other])


def test_guests_of_another_agent_on_the_same_libvirtd_are_not_ours(drv, base, tmp_path):
    inst = spawn(drv, base)
    xml = drv.host.get_guest(inst['uuid']).get_xml_desc()
    other = str(uuid_mod.uuid4())
    xml = xml.replace(inst['uuid'], other).replace(drv.instances_path, str(tmp_path / 'other'))
    drv.host.get_connection().defineXML(xml)
    assert drv.list_instance_uuids() == [inst['uuid']]
    assert [i['uuid'] for i in drv.list_instances()] == [inst['uuid']]
    assert drv.get_available_resource()['vcpus_used'] == 1 + 1  # reserved + ours


def test_available_resource(drv, base):
    before = drv.get_available_resource()
    spawn(drv, base)
    res = drv.get_available_resource()
    assert set(res) >= {'vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used',
                        'local_gb_used', 'hypervisor_type', 'hypervisor_version',
                        'hypervisor_hostname', 'cpu_info', 'disk_available_least'}
    assert res['vcpus'] == 4 and res['memory_mb'] == 8192
    assert res['hypervisor_type'] == 'TEST'
    assert before['vcpus_used'] == 1 and before['memory_mb_used'] == 256  # reserved only
    assert res['vcpus_used'] == 2 and res['memory_mb_used'] == 256 + 128
    assert res['local_gb_used'] == 1
    cpu = json.loads(res['cpu_info'])
    assert cpu['arch'] and 'topology' in cpu
    assert res['disk_available_least'] <= before['disk_available_least']


def test_capabilities_and_registry(virt_conf):
    assert libvirt_driver.LibvirtDriver.capabilities['supports_serial_console'] is True
    assert libvirt_driver.LibvirtDriver.capabilities['supports_attach_volume'] is True
    assert set(libvirt_driver.LibvirtDriver.capabilities) == \
        set(driver_mod.ComputeDriver.capabilities)
    assert isinstance(driver_mod.load_driver('libvirt'), libvirt_driver.LibvirtDriver)


# -- host: connection and events ---------------------------------------------------

def test_unreachable_hypervisor(virt_conf, tmp_path):
    host = host_mod.Host('test://%s/missing.xml' % tmp_path)
    with pytest.raises(exception.HypervisorUnavailable):
        host.get_connection()


def test_dead_connection_is_reopened(virt_conf):
    host = host_mod.Host(CONF.compute.libvirt_uri)
    first = host.get_connection()

    class Dead:
        closed = False

        def isAlive(self):
            return 0

        def close(self):
            self.closed = True
    dead = Dead()
    host._conn = dead
    again = host.get_connection()
    assert again is not dead and dead.closed and again.isAlive()
    assert host.get_connection() is again
    host._on_close(again, 0, None)  # libvirt says it closed
    assert host.get_connection() is not again
    first.close()
    host.close()


def test_lifecycle_events_reach_the_handler(drv, base):
    seen = []
    got = threading.Event()

    def handler(uuid, state):
        seen.append((uuid, state))
        got.set()
    drv.set_lifecycle_handler(handler)
    inst = spawn(drv, base)
    deadline = time.monotonic() + 5
    while (inst['uuid'], power_state.RUNNING) not in seen and time.monotonic() < deadline:
        got.wait(0.2)
    assert (inst['uuid'], power_state.RUNNING) in seen
    drv.power_off(inst, timeout=0)
    while (inst['uuid'], power_state.SHUTDOWN) not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (inst['uuid'], power_state.SHUTDOWN) in seen
