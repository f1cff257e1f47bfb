"""Plugging guest NICs into the host's networking.

A VIF (one entry of ``network_info``) is a dict:

    {'id': port id, 'address': MAC, 'devname': tap name (optional),
     'network': {'id', 'bridge', 'label', 'mtu', 'subnets': [...]}, ...}

A VIF driver prepares the host side (``plug``), removes it (``unplug``) and
says how the guest sees the NIC (``guest_interface_xml``: one libvirt
<interface> element as text, or None for no NIC). plug and unplug must be
idempotent: spawn, power_on and reboot may plug again, destroy and a failed
spawn unplug whatever is there.
"""

import abc
from xml.etree import ElementTree as ET

from common import netnames


class VIFDriver(abc.ABC):
    @abc.abstractmethod
    def plug(self, instance, vif):
        """Make the host side of ``vif`` ready before the guest starts."""

    @abc.abstractmethod
    def unplug(self, instance, vif):
        """Remove the host side of ``vif``; absent is not an error."""

    @abc.abstractmethod
    def guest_interface_xml(self, vif):
        """Libvirt <interface> XML for the guest, or None."""


class NoopVIFDriver(VIFDriver):
    """Plugs nothing and gives the guest no NIC (until networking exists)."""

    def plug(self, instance, vif):
        pass

    def unplug(self, instance, vif):
        pass

    def guest_interface_xml(self, vif):
        return None


class BridgeVIFDriver(NoopVIFDriver):
    """A virtio NIC on the Linux bridge of its network, which the host's
    data plane (compute.network) makes before the guest starts.

    libvirt creates the tap device (named ``vif['devname']``, tap + port id,
    so the data plane's firewall rules find it) when the guest starts or the
    NIC is hot-plugged, puts it on the bridge, and removes it when the guest
    stops or the NIC is unplugged; so plug and unplug have nothing to do.
    """

    @staticmethod
    def devname(vif):
        return vif.get('devname') or netnames.tap(vif['id'])

    def guest_interface_xml(self, vif):
        bridge = (vif.get('network') or {}).get('bridge')
        if not bridge:
            return None
        iface = ET.Element('interface', type='bridge')
        ET.SubElement(iface, 'mac', address=vif['address'])
        ET.SubElement(iface, 'source', bridge=bridge)
        ET.SubElement(iface, 'model', type='virtio')
        if vif.get('id') or vif.get('devname'):
            ET.SubElement(iface, 'target', dev=self.devname(vif))
        mtu = (vif.get('network') or {}).get('mtu')
        if mtu:
            ET.SubElement(iface, 'mtu', size=str(mtu))
        return ET.tostring(iface, encoding='unicode')


VIF_DRIVERS = {'noop': NoopVIFDriver, 'bridge': BridgeVIFDriver}


def get_vif_driver(name):
    return VIF_DRIVERS[name]()
