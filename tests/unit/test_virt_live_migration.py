"""The libvirt driver's live migration steps against libvirt's test
driver, with real qemu-img overlays: the destination's XML names the
destination's files and console port and keeps everything else; prepare
makes an overlay of the source's virtual size and a config drive, and a
rollback leaves nothing; the destination check names what it could not
reach."""

import os
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip('libvirt')

from common.conf import CONF  # noqa: E402
from common.host import disk  # noqa: E402
from compute.virt.libvirt import config as config_mod  # noqa: E402
from compute.virt.libvirt import live_migration as migration  # noqa: E402
from tests.fixtures.libvirt_test import IMAGE  # noqa: E402
from tests.fixtures.libvirt_test import NEEDS  # noqa: E402
from tests.fixtures.libvirt_test import leftovers  # noqa: E402
from tests.fixtures.libvirt_test import spawn  # noqa: E402

pytestmark = NEEDS


def test_destination_xml_moves_files_and_port_only(drv, base):
    inst = spawn(drv, base)
    xml = drv.host.get_guest(inst['uuid']).get_xml_desc()
    before = config_mod.parse_domain(xml)
    out = config_mod.parse_domain(migration.destination_xml(
        xml, '/dest/u/disk', '/dest/u/disk.config', '127.0.0.1', 12345, '/dest/u/console.log'))
    paths = {d['target']: d['path'] for d in out['disks']}
    assert paths == {'vda': '/dest/u/disk', 'hda': '/dest/u/disk.config'}
    assert out['serial_tcp'] == [{'host': '127.0.0.1', 'port': 12345}]
    assert out['console_log'] == '/dest/u/console.log'
    for key in ('name', 'uuid', 'vcpus', 'memory_kib', 'interfaces'):
        assert out[key] == before[key]


def test_prepare_makes_the_place_and_rollback_removes_it(drv, base):
    inst = spawn(drv, base, flavor={'name': 't', 'vcpus': 1, 'memory_mb': 128,
                                    'root_gb': 1, 'ephemeral_gb': 0, 'swap': 0})
    lm = drv.live_migration
    source = lm.source_info(inst)
    assert source['disk_size'] == 1024 ** 3
    # The same guest arriving "elsewhere": gone from here first.
    drv.destroy(None, inst, cleanup=True)
    dest = lm.prepare(inst, IMAGE, base, [], source)
    inst_dir = drv.instance_dir(inst)
    header = disk.read_qcow2_header(os.path.join(inst_dir, 'disk'))
    assert header['virtual_size'] == 1024 ** 3
    assert os.path.getsize(os.path.join(inst_dir, 'disk.config')) > 0
    conf = config_mod.parse_domain(dest['xml'])
    assert {d['target']: d['path'] for d in conf['disks']} == {
        'vda': os.path.join(inst_dir, 'disk'), 'hda': os.path.join(inst_dir, 'disk.config')}
    port = conf['serial_tcp'][0]['port']
    assert CONF.compute.console_port_min <= port <= CONF.compute.console_port_max
    assert not drv.ports.reserved  # qemu binds it when the guest arrives
    # What arrives is defined from that XML (libvirt does it on a real move).
    drv.host.define(dest['xml'])
    assert drv.instance_exists(inst)
    lm.rollback(None, inst)
    assert leftovers(drv, inst) == {'domain': False, 'dir': False, 'ports': set()}


def test_prepare_refuses_a_guest_already_here(drv, base):
    inst = spawn(drv, base)
    source = drv.live_migration.source_info(inst)
    with pytest.raises(Exception, match='exists'):
        drv.live_migration.prepare(inst, IMAGE, base, [], source)
    assert drv.instance_exists(inst)  # untouched


def test_check_destination(drv):
    CONF.set_override('connect_uri', 'test:///default', 'live_migration')
    try:
        assert drv.live_migration.check_destination() is None
        CONF.set_override('connect_uri', 'qemu+tcp://%s:1/system', 'live_migration')
        CONF.set_override('inbound_addr', '127.0.0.1', 'live_migration')
        why = drv.live_migration.check_destination()
        assert 'does not accept live migrations' in why
        assert 'qemu+tcp://127.0.0.1:1/system' in why
    finally:
        for opt in ('connect_uri', 'inbound_addr'):
            CONF.clear_override(opt, 'live_migration')


def test_volumes_get_the_destinations_connection(drv, base):
    inst = spawn(drv, base)
    vid = '5a1b2c3d-0000-4000-8000-000000000001'
    root = ET.fromstring(drv.host.get_guest(inst['uuid']).get_xml_desc())
    root.find('devices').append(drv._volume_config(
        {'driver_volume_type': 'file', 'data': {'path': base, 'format': 'qcow2'}}, vid,
        'vdb').to_element())  # as a hot-plug on the source leaves it
    xml = ET.tostring(root, encoding='unicode')

    def volume_disk(volume_id, dev):
        conn = {'driver_volume_type': 'nbd',
                'data': {'host': '10.250.0.1', 'port': 10809, 'name': volume_id}}
        return drv._volume_config(conn, volume_id, dev).to_element()
    out = config_mod.parse_domain(migration.destination_xml(
        xml, '/d/disk', '/d/disk.config', '127.0.0.1', 1, '/d/console.log', volume_disk))
    vol, = [d for d in out['disks'] if d['serial'] == vid]
    assert (vol['type'], vol['source_name'], vol['target']) == ('network', vid, 'vdb')
    assert len(out['disks']) == 3
