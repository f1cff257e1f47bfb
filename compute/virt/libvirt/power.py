"""Power actions on a libvirt guest (a part of LibvirtDriver): destroy,
power off and on, reboot, pause and unpause, suspend (libvirt's managed
save) and resume. Each takes the instance's lock; a start plugs the
guest's VIFs first."""

import shutil

import libvirt
from oslo_log import log as logging

from common.conf import CONF
from compute.virt import exception
from compute.virt.libvirt.host import libvirt_errors as _libvirt_errors

LOG = logging.getLogger(__name__)


class PowerActions:
    """Needs of the driver: self.host, self.vif_driver, self._locks,
    self.instance_dir."""

    # -- destroy ----------------------------------------------------------
    @_libvirt_errors
    def destroy(self, context, instance, network_info=None, cleanup=True):
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.find_guest(uuid)
            if guest is not None:
                guest.poweroff()
                guest.undefine()
            for vif in network_info or []:
                self.vif_driver.unplug(instance, vif)
            if cleanup:
                shutil.rmtree(self.instance_dir(uuid), ignore_errors=True)
        LOG.info('Destroyed %s%s', uuid, '' if guest else ' (no domain was defined)')

    # -- power ------------------------------------------------------------
    @_libvirt_errors
    def power_off(self, instance, timeout=None):
        timeout = CONF.compute.shutdown_timeout if timeout is None else timeout
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            try:
                how = guest.shutdown(timeout)
            except libvirt.libvirtError as e:
                raise exception.InstancePowerOffFailure(instance_id=uuid, reason=str(e)) from e
        LOG.info('Powered off %s (%s)', uuid, how)
        return how

    def _plug_vifs(self, instance, network_info):
        for vif in network_info or []:
            self.vif_driver.plug(instance, vif)

    @_libvirt_errors
    def power_on(self, context, instance, network_info):
        self._launch(instance, network_info, 'Powered on')

    def _launch(self, instance, network_info, what):
        """Start the guest unless it runs (a managed-saved one restores)."""
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            if guest.is_active():
                return
            self._plug_vifs(instance, network_info)
            guest.launch()
        LOG.info('%s %s', what, uuid)

    @_libvirt_errors
    def reboot(self, context, instance, network_info, reboot_type):
        if reboot_type not in ('SOFT', 'HARD'):
            raise exception.NotSupported(what='reboot type %s' % reboot_type)
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            self._plug_vifs(instance, network_info)
            how = guest.reboot(reboot_type, CONF.compute.shutdown_timeout)
        LOG.info('Rebooted %s (%s)', uuid, how)
        return how

    # -- pause, suspend ----------------------------------------------------
    @_libvirt_errors
    def pause(self, instance):
        with self._locks(instance['uuid']):
            self.host.get_guest(instance['uuid']).pause()
        LOG.info('Paused %s', instance['uuid'])

    @_libvirt_errors
    def unpause(self, instance):
        with self._locks(instance['uuid']):
            self.host.get_guest(instance['uuid']).unpause()
        LOG.info('Unpaused %s', instance['uuid'])

    @_libvirt_errors
    def suspend(self, context, instance):
        """libvirt's managed save: memory to a file libvirt keeps, the guest
        stops, and its next start restores it."""
        with self._locks(instance['uuid']):
            self.host.get_guest(instance['uuid']).managed_save()
        LOG.info('Suspended %s', instance['uuid'])

    @_libvirt_errors
    def resume(self, context, instance, network_info):
        self._launch(instance, network_info, 'Resumed')
