"""Hot-plug of NICs and volumes into a libvirt guest (a part of
LibvirtDriver): live and persistent while the guest runs, persistent only
while it is off; an unplug waits, bounded, until the guest lets go."""

import time

import libvirt
from oslo_log import log as logging

from compute.virt import exception
from compute.virt.libvirt import config as config_mod
from compute.virt.libvirt import designer
from compute.virt.libvirt.host import libvirt_errors as _libvirt_errors

LOG = logging.getLogger(__name__)

# Hot-unplug needs the guest's cooperation (ACPI PCI eject): wait this long,
# asking again every DETACH_RETRY_INTERVAL seconds (a guest still booting
# may miss the first request).
DETACH_TIMEOUT = 30.0
DETACH_RETRY_INTERVAL = 5.0
DETACH_POLL_INTERVAL = 0.2


class Hotplug:
    """Needs of the driver: self.host, self.vif_driver, self._locks,
    self._volume_config."""

    # -- interfaces ---------------------------------------------------------
    @_libvirt_errors
    def attach_interface(self, context, instance, image_meta, vif):
        """Hot-plug the NIC of ``vif`` (a network_info entry): into the
        running guest and its persistent definition, or only into the
        definition when the guest is off. A NIC with that MAC already there
        is not an error."""
        uuid = instance['uuid']
        xml = self.vif_driver.guest_interface_xml(vif)
        if not xml:
            raise exception.NotSupported(
                what='attaching interfaces with the %r VIF driver'
                % type(self.vif_driver).__name__)
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            live = guest.is_active()
            if guest.find_interface(vif['address'], inactive=not live) is not None:
                LOG.info('Interface %s (%s) is already attached to %s', vif.get('id'),
                         vif['address'], uuid)
                return
            self.vif_driver.plug(instance, vif)
            try:
                guest.attach_device(xml, live=live)
            except libvirt.libvirtError as e:
                LOG.warning('Attaching interface %s to %s failed: %s', vif.get('id'), uuid, e)
                try:
                    self.vif_driver.unplug(instance, vif)
                except Exception:  # noqa: BLE001 - the attach error is the news
                    LOG.exception('Could not unplug VIF %s', vif.get('id'))
                raise exception.VirtError(
                    reason='attaching interface %s to %s failed: %s'
                    % (vif.get('id'), uuid, e)) from e
        LOG.info('Attached interface %s (%s) to %s%s', vif.get('id'), vif['address'], uuid,
                 ' (live)' if live else '')

    @_libvirt_errors
    def detach_interface(self, context, instance, vif):
        """Remove the NIC with ``vif['address']`` from the persistent
        definition and, when the guest runs, from the guest, waiting (bounded)
        until the guest has let it go. A NIC that is not there is not an
        error."""
        uuid = instance['uuid']
        mac = vif['address']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            live = guest.is_active()
            persistent_xml = guest.find_interface(mac, inactive=True)
            live_xml = guest.find_interface(mac) if live else None
            if live_xml is None and persistent_xml is None:
                LOG.info('Interface %s (%s) is not attached to %s', vif.get('id'), mac, uuid)
                self.vif_driver.unplug(instance, vif)
                return
            if live_xml is not None:
                guest.detach_device(live_xml, live=True,
                                    persistent=persistent_xml is not None)
                self._wait_for_detach(
                    guest, live_xml, lambda: guest.find_interface(mac) is not None,
                    lambda: exception.VirtError(
                        reason='the guest %s did not release interface %s within %ds'
                        % (guest.uuid, mac, DETACH_TIMEOUT)), mac)
            else:
                guest.detach_device(persistent_xml, live=False)
            self.vif_driver.unplug(instance, vif)
        LOG.info('Detached interface %s (%s) from %s', vif.get('id'), mac, uuid)

    def _wait_for_detach(self, guest, live_xml, still_there, error, what):
        """Wait (bounded by DETACH_TIMEOUT) until the running guest has let
        the device of ``live_xml`` go (``still_there()`` false), asking it
        again every DETACH_RETRY_INTERVAL seconds; then raise ``error()``."""
        start = time.monotonic()
        deadline = start + DETACH_TIMEOUT
        next_retry = start + DETACH_RETRY_INTERVAL
        while True:
            if not guest.is_active() or not still_there():
                return
            now = time.monotonic()
            if now >= deadline:
                raise error()
            if now >= next_retry:
                next_retry = now + DETACH_RETRY_INTERVAL
                try:
                    guest.detach_device(live_xml, live=True, persistent=False)
                except libvirt.libvirtError as e:
                    # "already in the process of unplug" and the like: keep waiting
                    LOG.debug('Asking again for the unplug of %s: %s', what, e)
            time.sleep(DETACH_POLL_INTERVAL)

    # -- volumes ------------------------------------------------------------
    @_libvirt_errors
    def attach_volume(self, context, instance, connection_info, volume_id, device=None):
        """Hot-plug the volume as the next free virtio disk (or ``device``
        when free): live and persistent when the guest runs, persistent only
        when it is off. Returns the device name (vdb, ...). A volume already
        attached answers its device."""
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            live = guest.is_active()
            for inactive in (False, True):
                existing = guest.find_disk(volume_id, inactive=inactive)
                if existing is not None:
                    dev = config_mod.disk_target(existing)
                    LOG.info('Volume %s is already attached to %s as %s', volume_id, uuid,
                             dev)
                    return dev
            dev = designer.next_volume_target(guest.disk_targets(), device)
            if dev is None:
                raise exception.NoFreeDevice(instance_id=uuid,
                                             reason='vdb..vdz are all used')
            xml = self._volume_config(connection_info, volume_id, dev).to_xml()
            t0 = time.monotonic()
            try:
                guest.attach_device(xml, live=live)
            except libvirt.libvirtError as e:
                raise exception.VolumeAttachFailed(volume_id=volume_id, instance_id=uuid,
                                                   reason=str(e)) from e
        LOG.info('Attached volume %s to %s as %s (%s%s) in %.2fs', volume_id, uuid, dev,
                 connection_info.get('driver_volume_type'), ', live' if live else '',
                 time.monotonic() - t0)
        return dev

    @_libvirt_errors
    def detach_volume(self, context, instance, volume_id):
        """Remove the disk whose serial is ``volume_id`` from the persistent
        definition and, when the guest runs, from the guest, waiting
        (bounded) until the guest has released it; VolumeDetachFailed if it
        does not. A volume that is not attached is not an error."""
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            live = guest.is_active()
            persistent_xml = guest.find_disk(volume_id, inactive=True)
            live_xml = guest.find_disk(volume_id) if live else None
            if live_xml is None and persistent_xml is None:
                LOG.info('Volume %s is not attached to %s', volume_id, uuid)
                return
            if live_xml is not None:
                try:
                    guest.detach_device(live_xml, live=True,
                                        persistent=persistent_xml is not None)
                except libvirt.libvirtError as e:
                    raise exception.VolumeDetachFailed(volume_id=volume_id,
                                                       instance_id=uuid,
                                                       reason=str(e)) from e
                self._wait_for_detach(
                    guest, live_xml, lambda: guest.find_disk(volume_id) is not None,
                    lambda: exception.VolumeDetachFailed(
                        volume_id=volume_id, instance_id=uuid,
                        reason='the guest did not release it within %ds' % DETACH_TIMEOUT),
                    volume_id)
            else:
                guest.detach_device(persistent_xml, live=False)
        LOG.info('Detached volume %s from %s', volume_id, uuid)

    @_libvirt_errors
    def list_volume_attachments(self, instance):
        """[{'volume_id', 'device'}] of the disks with a serial in the
        guest's current definition (live when it runs)."""
        guest = self.host.get_guest(instance['uuid'])
        return [{'volume_id': d['serial'], 'device': d['target']}
                for d in config_mod.volume_disks(guest.get_xml_desc())]
