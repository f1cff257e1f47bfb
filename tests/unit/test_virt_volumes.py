"""Volume attach in the compute drivers: the disk XML per connection type,
target naming, attach/detach/list against a fake libvirt domain (libvirt's
test driver has no attachDeviceFlags), boot-from-volume domain shape, and
the fake driver."""

from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip('libvirt')

from compute.virt import driver as driver_mod  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import fake  # noqa: E402
from compute.virt.libvirt import config  # noqa: E402
from compute.virt.libvirt import designer  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import guest as guest_mod  # noqa: E402
from compute.virt.libvirt import hotplug  # noqa: E402

UUID = '6a5b1c2d-0000-4000-8000-000000000002'
VOL = '0e3f5d2a-1111-4222-8333-444455556666'
VOL2 = '0e3f5d2a-1111-4222-8333-777788889999'
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
FILE_CI = {'driver_volume_type': 'file',
           'data': {'path': '/var/lib/altostack/volumes/volume-%s.qcow2' % VOL,
                    'format': 'qcow2'}}
NBD_CI = {'driver_volume_type': 'nbd',
          'data': {'host': '127.0.0.1', 'port': 10809, 'name': VOL, 'format': 'raw'}}
ROOT_DISK = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source file='/i/disk'/><target dev='vda' bus='virtio'/></disk>")
CDROM = ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
         "<source file='/i/disk.config'/><target dev='hda' bus='ide'/><readonly/></disk>")


def serial_of(xml):
    return ET.fromstring(xml).findtext('serial')


class FakeDomain:
    """Live and persistent disk lists; a live detach completes after
    ``release_after`` looks at the XML (never with None)."""

    def __init__(self, active=True, live=(ROOT_DISK, CDROM), persistent=(ROOT_DISK, CDROM),
                 release_after=0, fail=None):
        self.active = active
        self.live = list(live)
        self.persistent = list(persistent)
        self.release_after = release_after
        self.fail = fail
        self.calls = []
        self.pending = []

    def UUIDString(self):
        return UUID

    def name(self):
        return 'altostack-' + UUID

    def isActive(self):
        return self.active

    def XMLDesc(self, flags=0):
        if flags & libvirt.VIR_DOMAIN_XML_INACTIVE:
            devs = self.persistent
        else:
            if self.pending and self.release_after is not None:
                if self.release_after <= 0:
                    for serial in self.pending:
                        self.live = [x for x in self.live if serial_of(x) != serial]
                    self.pending = []
                self.release_after -= 1
            devs = self.live
        return '<domain type="qemu"><name>x</name><devices>%s</devices></domain>' % ''.join(devs)

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(('attach', flags, xml))
        if self.fail:
            raise libvirt.libvirtError(self.fail)
        if flags & CONFIG:
            self.persistent.append(xml)
        if flags & LIVE:
            self.live.append(xml)

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(('detach', flags, xml))
        serial = serial_of(xml)
        if flags & CONFIG:
            self.persistent = [x for x in self.persistent if serial_of(x) != serial]
        if flags & LIVE:
            if serial in self.pending:
                raise libvirt.libvirtError('device is already in the process of unplug')
            self.pending.append(serial)


@pytest.fixture
def make(monkeypatch):
    monkeypatch.setattr(hotplug, 'DETACH_POLL_INTERVAL', 0.001)

    def _make(dom):
        drv = libvirt_driver.LibvirtDriver(uri='test:///default')
        monkeypatch.setattr(drv.host, 'get_guest', lambda uuid: guest_mod.Guest(dom))
        return drv
    return _make


INST = {'uuid': UUID}


# -- XML and names ------------------------------------------------------------------

def test_file_volume_disk_xml():
    el = designer.volume_disk(FILE_CI, VOL, 'vdb', 'none').to_element()
    assert el.get('type') == 'file' and el.get('device') == 'disk'
    assert el.find('driver').attrib == {'name': 'qemu', 'type': 'qcow2', 'cache': 'none'}
    assert el.find('source').get('file') == FILE_CI['data']['path']
    assert el.find('target').attrib == {'dev': 'vdb', 'bus': 'virtio'}
    assert el.findtext('serial') == VOL  # the whole id; the guest sees 20 bytes of it


def test_nbd_volume_disk_xml():
    el = ET.fromstring(designer.volume_disk(NBD_CI, VOL, 'vdc').to_xml())
    assert el.get('type') == 'network' and el.get('device') == 'disk'
    assert el.find('driver').attrib == {'name': 'qemu', 'type': 'raw', 'cache': 'none'}
    src = el.find('source')
    assert src.attrib == {'protocol': 'nbd', 'name': VOL}
    assert [h.attrib for h in src.findall('host')] == [{'name': '127.0.0.1', 'port': '10809'}]
    assert el.find('target').attrib == {'dev': 'vdc', 'bus': 'virtio'}
    assert el.findtext('serial') == VOL


def test_unknown_connection_type():
    with pytest.raises(ValueError):
        designer.volume_disk({'driver_volume_type': 'iscsi', 'data': {}}, VOL, 'vdb')


def test_guest_serial_is_twenty_bytes():
    assert designer.guest_serial(VOL) == VOL[:20] and len(designer.guest_serial(VOL)) == 20


def test_next_volume_target():
    assert designer.next_volume_target({'vda', 'hda'}) == 'vdb'
    assert designer.next_volume_target({'vda', 'vdb', 'vdd'}) == 'vdc'
    assert designer.next_volume_target({'vda'}, '/dev/vdf') == 'vdf'
    assert designer.next_volume_target({'vda', 'vdf'}, 'vdf') == 'vdb'  # taken: next free
    assert designer.next_volume_target({'vda'}, 'sdb') == 'vdb'  # not virtio: ignored
    assert designer.next_volume_target({'vd' + c for c in 'abcdefghijklmnopqrstuvwxyz'}) \
        is None


def test_volume_disks_read_back():
    xml = ('<domain><devices>%s%s%s</devices></domain>'
           % (ROOT_DISK, CDROM, designer.volume_disk(NBD_CI, VOL, 'vdb').to_xml()))
    assert config.volume_disks(xml) == [{'serial': VOL, 'target': 'vdb'}]
    assert config.disk_targets(xml) == ['vda', 'hda', 'vdb']
    assert serial_of(config.find_disk_by_serial(xml, VOL)) == VOL
    assert config.find_disk_by_serial(xml, 'nope') is None
    parsed = config.parse_domain(xml)
    nbd = [d for d in parsed['disks'] if d['type'] == 'network'][0]
    assert nbd['source_name'] == VOL and nbd['serial'] == VOL and nbd['path'] is None


def test_boot_from_volume_domain_has_no_overlay():
    inst = {'uuid': UUID, 'flavor': {'memory_mb': 128, 'vcpus': 1}}
    vols = [designer.volume_disk(FILE_CI, VOL, 'vda'),
            designer.volume_disk(NBD_CI, VOL2, 'vdb')]
    cfg = designer.guest_config(inst, 'qemu', None, '/i/disk.config', '127.0.0.1', 10000,
                                '/i/console.log', volume_devices=vols)
    disks = config.parse_domain(cfg.to_xml())['disks']
    assert [(d['target'], d['serial']) for d in disks] == [('vda', VOL), ('vdb', VOL2),
                                                           ('hda', None)]


def test_spawn_mapping_is_parsed(make):
    drv = make(FakeDomain())
    mapping = [{'volume_id': VOL2, 'boot_index': None, 'device': None,
                'connection_info': NBD_CI},
               {'volume_id': VOL, 'boot_index': 0, 'device': 'vda',
                'connection_info': FILE_CI}]
    root, others = drv._volume_mapping({'mapping': mapping})
    assert root['volume_id'] == VOL and [m['volume_id'] for m in others] == [VOL2]
    devs = drv._volume_devices(root, others)
    assert [(d.target_dev, d.serial) for d in devs] == [('vda', VOL), ('vdb', VOL2)]
    with pytest.raises(exception.NotSupported):
        drv._volume_mapping({'mapping': [dict(mapping[1]), dict(mapping[1])]})
    assert drv._volume_mapping(None) == (None, [])


# -- attach / detach / list ------------------------------------------------------------

def test_attach_to_a_running_guest_is_live_and_persistent(make):
    dom = FakeDomain()
    drv = make(dom)
    assert drv.attach_volume(None, INST, NBD_CI, VOL) == 'vdb'
    assert dom.calls[0][:2] == ('attach', LIVE | CONFIG)
    assert drv.list_volume_attachments(INST) == [{'volume_id': VOL, 'device': 'vdb'}]
    # again: no second disk, same answer
    assert drv.attach_volume(None, INST, NBD_CI, VOL) == 'vdb'
    assert len(dom.calls) == 1
    assert drv.attach_volume(None, INST, FILE_CI, VOL2, device='/dev/vdb') == 'vdc'
    assert drv.list_volume_attachments(INST) == [{'volume_id': VOL, 'device': 'vdb'},
                                                 {'volume_id': VOL2, 'device': 'vdc'}]


def test_attach_to_a_stopped_guest_changes_its_definition(make):
    dom = FakeDomain(active=False)
    drv = make(dom)
    assert drv.attach_volume(None, INST, FILE_CI, VOL, device='vde') == 'vde'
    assert dom.calls[0][:2] == ('attach', CONFIG) and dom.live == [ROOT_DISK, CDROM]


def test_failed_attach_raises_a_virt_error(make):
    drv = make(FakeDomain(fail='no way'))
    with pytest.raises(exception.VolumeAttachFailed, match='no way'):
        drv.attach_volume(None, INST, FILE_CI, VOL)


def test_unknown_connection_type_is_not_supported(make):
    drv = make(FakeDomain())
    with pytest.raises(exception.NotSupported):
        drv.attach_volume(None, INST, {'driver_volume_type': 'rbd', 'data': {}}, VOL)


def test_no_free_device(make):
    used = [ROOT_DISK] + [designer.volume_disk(FILE_CI, 'v%d' % i, 'vd' + c).to_xml()
                          for i, c in enumerate('bcdefghijklmnopqrstuvwxyz')]
    drv = make(FakeDomain(live=used, persistent=used))
    with pytest.raises(exception.NoFreeDevice):
        drv.attach_volume(None, INST, FILE_CI, VOL)


def test_detach_from_a_running_guest_waits_until_it_is_gone(make):
    dom = FakeDomain(release_after=3)
    drv = make(dom)
    drv.attach_volume(None, INST, NBD_CI, VOL)
    drv.detach_volume(None, INST, VOL)
    assert dom.calls[1][:2] == ('detach', LIVE | CONFIG)
    assert drv.list_volume_attachments(INST) == []
    assert all(serial_of(x) != VOL for x in dom.persistent)


def test_detach_from_a_stopped_guest_and_absent_volumes(make):
    dom = FakeDomain(active=False)
    drv = make(dom)
    drv.attach_volume(None, INST, FILE_CI, VOL)
    drv.detach_volume(None, INST, VOL)
    assert dom.calls[-1][:2] == ('detach', CONFIG)
    drv.detach_volume(None, INST, VOL)  # not attached: fine
    assert len(dom.calls) == 2


def test_detach_asks_again_then_gives_up(make, monkeypatch):
    monkeypatch.setattr(hotplug, 'DETACH_TIMEOUT', 0.3)
    monkeypatch.setattr(hotplug, 'DETACH_RETRY_INTERVAL', 0.05)
    dom = FakeDomain(release_after=None)
    drv = make(dom)
    drv.attach_volume(None, INST, NBD_CI, VOL)
    with pytest.raises(exception.VolumeDetachFailed, match='did not release'):
        drv.detach_volume(None, INST, VOL)
    detaches = [c[:2] for c in dom.calls if c[0] == 'detach']
    assert detaches[0] == ('detach', LIVE | CONFIG)
    assert len(detaches) > 1 and set(detaches[1:]) == {('detach', LIVE)}


# -- interface and the fake driver ---------------------------------------------------

def test_capabilities_and_the_interface():
    assert libvirt_driver.LibvirtDriver.capabilities['supports_attach_volume'] is True
    assert fake.FakeDriver.capabilities['supports_attach_volume'] is True
    assert driver_mod.ComputeDriver.capabilities['supports_attach_volume'] is False

    class Minimal:
        attach_volume = driver_mod.ComputeDriver.attach_volume
        detach_volume = driver_mod.ComputeDriver.detach_volume
        list_volume_attachments = driver_mod.ComputeDriver.list_volume_attachments
    for call in (lambda m: m.attach_volume(None, INST, FILE_CI, VOL),
                 lambda m: m.detach_volume(None, INST, VOL),
                 lambda m: m.list_volume_attachments(INST)):
        with pytest.raises(exception.NotSupported):
            call(Minimal())


def test_fake_driver_volumes():
    d = fake.FakeDriver()
    inst = {'uuid': UUID, 'flavor': {'vcpus': 1, 'memory_mb': 64}}
    d.spawn(None, inst, {}, None, [], block_device_info={'mapping': [
        {'volume_id': VOL, 'boot_index': 0, 'device': None, 'connection_info': FILE_CI}]})
    assert d.list_volume_attachments(inst) == [{'volume_id': VOL, 'device': 'vda'}]
    assert d.attach_volume(None, inst, NBD_CI, VOL2) == 'vdb'
    assert d.attach_volume(None, inst, NBD_CI, VOL2) == 'vdb'
    d.detach_volume(None, inst, VOL2)
    d.detach_volume(None, inst, VOL2)
    assert d.list_volume_attachments(inst) == [{'volume_id': VOL, 'device': 'vda'}]
    with pytest.raises(exception.GuestNotFound):
        d.attach_volume(None, {'uuid': 'nope'}, NBD_CI, VOL2)
