"""NIC hot-plug in the libvirt driver (attach_interface/detach_interface)
against a fake libvirt domain (libvirt's test driver has no
attachDeviceFlags), the fake driver's, the bridge VIF driver's XML and
reading interfaces back from domain XML."""

from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip('libvirt')

from compute.virt import driver as driver_mod  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import fake  # noqa: E402
from compute.virt import vif as vif_mod  # noqa: E402
from compute.virt.libvirt import config  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import guest as guest_mod  # noqa: E402
from compute.virt.libvirt import hotplug  # noqa: E402

UUID = '6a5b1c2d-0000-4000-8000-000000000001'
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
VIF = {'id': 'port-0123456789ab', 'address': 'fa:16:3e:12:34:56', 'devname': 'tapport-012345',
       'type': 'bridge', 'network': {'id': 'net-1', 'bridge': 'brqnet-1', 'mtu': 1450,
                                     'label': 'private', 'subnets': []}}


def iface_xml(mac, bridge='brqnet-1', target=None):
    t = "<target dev='%s'/>" % target if target else ''
    return ("<interface type='bridge'><mac address='%s'/><source bridge='%s'/>"
            "<model type='virtio'/>%s</interface>" % (mac, bridge, t))


class FakeDomain:
    """Live and persistent device lists; a live detach completes after
    ``release_after`` looks at the XML (never with None)."""

    def __init__(self, active=True, live=(), persistent=(), release_after=0, fail=None):
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
                    for mac in self.pending:
                        self.live = [x for x in self.live if mac not in x]
                    self.pending = []
                self.release_after -= 1
            devs = self.live
        return '<domain type="qemu"><name>x</name><devices>%s</devices></domain>' % ''.join(devs)

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(('attach', flags))
        if self.fail:
            raise libvirt.libvirtError(self.fail)
        if flags & CONFIG:
            self.persistent.append(xml)
        if flags & LIVE:
            self.live.append(xml)

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(('detach', flags))
        mac = ET.fromstring(xml).find('mac').get('address')
        if flags & CONFIG:
            self.persistent = [x for x in self.persistent if mac not in x]
        if flags & LIVE:
            if mac in self.pending:
                raise libvirt.libvirtError('device is already in the process of unplug')
            self.pending.append(mac)


class RecordingVIFDriver(vif_mod.BridgeVIFDriver):
    def __init__(self):
        self.calls = []

    def plug(self, instance, vif):
        self.calls.append(('plug', vif['id']))

    def unplug(self, instance, vif):
        self.calls.append(('unplug', vif['id']))


@pytest.fixture
def make(monkeypatch):
    monkeypatch.setattr(hotplug, 'DETACH_POLL_INTERVAL', 0.001)

    def _make(dom, vif_driver=None):
        drv = libvirt_driver.LibvirtDriver(uri='test:///default',
                                           vif_driver=vif_driver or RecordingVIFDriver())
        monkeypatch.setattr(drv.host, 'get_guest', lambda uuid: guest_mod.Guest(dom))
        return drv
    return _make


INST = {'uuid': UUID}


def test_attach_to_a_running_guest_is_live_and_persistent(make):
    dom = FakeDomain(active=True)
    drv = make(dom)
    drv.attach_interface(None, INST, None, VIF)
    assert dom.calls == [('attach', LIVE | CONFIG)]
    assert drv.vif_driver.calls == [('plug', VIF['id'])]
    el = ET.fromstring(dom.live[0])
    assert el.find('target').get('dev') == 'tapport-012345'
    assert el.find('source').get('bridge') == 'brqnet-1'
    assert el.find('mtu').get('size') == '1450'
    assert el.find('mac').get('address') == VIF['address']
    # again: it is there already, nothing happens
    drv.attach_interface(None, INST, None, VIF)
    assert dom.calls == [('attach', LIVE | CONFIG)]


def test_attach_to_a_stopped_guest_changes_its_definition(make):
    dom = FakeDomain(active=False)
    drv = make(dom)
    drv.attach_interface(None, INST, None, VIF)
    assert dom.calls == [('attach', CONFIG)]
    assert len(dom.persistent) == 1 and dom.live == []


def test_failed_attach_unplugs_and_raises_a_virt_error(make):
    dom = FakeDomain(active=True, fail='internal error: no more PCI slots')
    drv = make(dom)
    with pytest.raises(exception.VirtError, match='no more PCI slots'):
        drv.attach_interface(None, INST, None, VIF)
    assert drv.vif_driver.calls == [('plug', VIF['id']), ('unplug', VIF['id'])]


def test_attach_needs_a_vif_driver_that_makes_nics(make):
    drv = make(FakeDomain(), vif_driver=vif_mod.NoopVIFDriver())
    with pytest.raises(exception.NotSupported):
        drv.attach_interface(None, INST, None, VIF)


def test_detach_from_a_running_guest_waits_until_it_is_gone(make):
    x = iface_xml(VIF['address'], target='tapport-012345')
    other = iface_xml('fa:16:3e:00:00:99')
    dom = FakeDomain(active=True, live=[other, x], persistent=[other, x], release_after=3)
    drv = make(dom)
    drv.detach_interface(None, INST, VIF)
    assert dom.calls == [('detach', LIVE | CONFIG)]
    assert dom.live == [other] and dom.persistent == [other]
    assert drv.vif_driver.calls == [('unplug', VIF['id'])]


def test_detach_of_a_live_only_nic(make):
    x = iface_xml(VIF['address'])
    dom = FakeDomain(active=True, live=[x], persistent=[])
    drv = make(dom)
    drv.detach_interface(None, INST, VIF)
    assert dom.calls == [('detach', LIVE)]


def test_detach_from_a_stopped_guest(make):
    x = iface_xml(VIF['address'])
    dom = FakeDomain(active=False, persistent=[x])
    drv = make(dom)
    drv.detach_interface(None, INST, VIF)
    assert dom.calls == [('detach', CONFIG)] and dom.persistent == []


def test_detach_of_a_nic_that_is_not_there_is_fine(make):
    dom = FakeDomain(active=True)
    drv = make(dom)
    drv.detach_interface(None, INST, VIF)
    assert dom.calls == []


def test_detach_asks_again_then_gives_up(make, monkeypatch):
    monkeypatch.setattr(hotplug, 'DETACH_TIMEOUT', 0.3)
    monkeypatch.setattr(hotplug, 'DETACH_RETRY_INTERVAL', 0.05)
    x = iface_xml(VIF['address'])
    dom = FakeDomain(active=True, live=[x], persistent=[x], release_after=None)
    drv = make(dom)
    with pytest.raises(exception.VirtError, match='did not release'):
        drv.detach_interface(None, INST, VIF)
    assert dom.calls[0] == ('detach', LIVE | CONFIG)
    assert len(dom.calls) > 1 and set(dom.calls[1:]) == {('detach', LIVE)}
    assert drv.vif_driver.calls == []


def test_capabilities_and_the_interface():
    assert libvirt_driver.LibvirtDriver.capabilities['supports_attach_interface'] is True
    assert fake.FakeDriver.capabilities['supports_attach_interface'] is True
    assert driver_mod.ComputeDriver.capabilities['supports_attach_interface'] is False

    class Minimal(fake.FakeDriver):
        attach_interface = driver_mod.ComputeDriver.attach_interface
        detach_interface = driver_mod.ComputeDriver.detach_interface

    with pytest.raises(exception.NotSupported):
        Minimal().attach_interface(None, INST, None, VIF)
    with pytest.raises(exception.NotSupported):
        Minimal().detach_interface(None, INST, VIF)


def test_fake_driver_interfaces():
    d = fake.FakeDriver()
    inst = {'uuid': UUID, 'flavor': {'vcpus': 1, 'memory_mb': 64}}
    d.spawn(None, inst, {}, '/b', [])
    d.attach_interface(None, inst, None, VIF)
    d.attach_interface(None, inst, None, VIF)
    assert [v['id'] for v in d.instances[UUID]['vifs']] == [VIF['id']]
    d.detach_interface(None, inst, VIF)
    d.detach_interface(None, inst, VIF)
    assert d.instances[UUID]['vifs'] == []
    with pytest.raises(exception.GuestNotFound):
        d.attach_interface(None, {'uuid': 'nope'}, None, VIF)


def test_bridge_vif_target_defaults_to_the_tap_name():
    v = vif_mod.BridgeVIFDriver()
    no_devname = dict(VIF, devname=None, id='0123456789abcdef')
    el = ET.fromstring(v.guest_interface_xml(no_devname))
    assert el.find('target').get('dev') == 'tap0123456789a'
    v.plug({}, VIF)
    v.unplug({}, VIF)


def test_interfaces_read_back_from_domain_xml():
    xml = ('<domain><devices>%s%s</devices></domain>'
           % (iface_xml('FA:16:3E:00:00:01', target='tapa'),
              "<interface type='bridge'><mac address='fa:16:3e:00:00:02'/>"
              "<source bridge='brqb'/><mtu size='1450'/></interface>"))
    parsed = config.parse_domain(xml)
    assert parsed['interfaces'] == [
        {'type': 'bridge', 'mac': 'fa:16:3e:00:00:01', 'bridge': 'brqnet-1', 'target': 'tapa',
         'mtu': None},
        {'type': 'bridge', 'mac': 'fa:16:3e:00:00:02', 'bridge': 'brqb', 'target': None,
         'mtu': 1450}]
    found = config.find_interface(xml, 'fa:16:3e:00:00:01')
    assert ET.fromstring(found).find('target').get('dev') == 'tapa'
    assert config.find_interface(xml, 'fa:16:3e:00:00:09') is None
