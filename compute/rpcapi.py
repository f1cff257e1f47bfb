"""Client of the compute agents (topic compute.<host>).

Instances travel as the plain dicts of common.db.instances.to_dict: the
agents hold no database credentials.

Version history:

    1.0 - ping (call)
    1.1 - build_and_run_instance, stop_instance, start_instance,
          reboot_instance, terminate_instance (casts); get_console_output,
          get_host_uptime (calls)
    1.2 - refresh_network (cast: sync the host's data plane with the books);
          attach_interface, detach_interface (calls: hot-plug a port's NIC)
    1.3 - attach_volume, detach_volume (casts: hot-plug a reserved volume,
          unplug one being detached); instances may carry 'block_devices'
    1.4 - pause_instance, unpause_instance, suspend_instance,
          resume_instance, rebuild_instance (casts)
    1.5 - get_serial_console (call: where the guest's serial socket listens)
    1.6 - snapshot_instance (cast: copy the root disk into a queued image
          through its signed upload URL)
    1.7 - resize_instance, confirm_resize, revert_resize (casts; each with
          the migration record as a dict: old_flavor, new_flavor, uuid)
    1.9 - check_live_migration_destination, pre_live_migration,
          rollback_live_migration_at_destination (calls, on the
          destination); live_migration (cast, on the source)
"""

from common import exception
from common import rpc

TOPIC = 'compute'


class ComputeAPI:
    VERSION = '1.9'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def _prepare(self, host, version):
        return self.client.prepare(server=host, version=version)

    def ping(self, context, host):
        return self._prepare(host, '1.0').call(context, 'ping')

    def build_and_run_instance(self, context, host, instance):
        self._prepare(host, '1.1').cast(context, 'build_and_run_instance', instance=instance)

    def stop_instance(self, context, host, instance):
        self._prepare(host, '1.1').cast(context, 'stop_instance', instance=instance)

    def start_instance(self, context, host, instance):
        self._prepare(host, '1.1').cast(context, 'start_instance', instance=instance)

    def reboot_instance(self, context, host, instance, reboot_type):
        self._prepare(host, '1.1').cast(context, 'reboot_instance', instance=instance,
                                        reboot_type=reboot_type)

    def terminate_instance(self, context, host, instance):
        self._prepare(host, '1.1').cast(context, 'terminate_instance', instance=instance)

    def get_console_output(self, context, host, instance, length=None):
        return self._prepare(host, '1.1').call(context, 'get_console_output',
                                               instance=instance, length=length)

    def get_host_uptime(self, context, host):
        return self._prepare(host, '1.1').call(context, 'get_host_uptime')

    def refresh_network(self, context, host):
        """Ask the agent on ``host`` to sync its bridges, DHCP, firewall and NAT."""
        # A nudge, not a duty: the agent's periodic sync catches up, so a
        # broker that is away must not hold the API call that made the change.
        self.client.prepare(server=host, version='1.2', retry=1).cast(
            context, 'refresh_network')

    def attach_interface(self, context, host, instance, vif, timeout=None):
        cctxt = self.client.prepare(server=host, version='1.2', timeout=timeout)
        return cctxt.call(context, 'attach_interface', instance=instance, vif=vif)

    def detach_interface(self, context, host, instance, vif, timeout=None):
        cctxt = self.client.prepare(server=host, version='1.2', timeout=timeout)
        return cctxt.call(context, 'detach_interface', instance=instance, vif=vif)

    def attach_volume(self, context, host, instance, volume, attachment_id, device=None):
        self.client.prepare(server=host, version='1.3', retry=1).cast(
            context, 'attach_volume', instance=instance, volume=volume,
            attachment_id=attachment_id, device=device)

    def detach_volume(self, context, host, instance, volume, attachment_id):
        self.client.prepare(server=host, version='1.3', retry=1).cast(
            context, 'detach_volume', instance=instance, volume=volume,
            attachment_id=attachment_id)

    def get_serial_console(self, context, host, instance, timeout=None):
        """{'host', 'port'} of the serial socket of ``instance`` on its host
        (an address reachable from that host, loopback by default)."""
        if not self.client.can_send_version('1.5'):
            raise exception.ServiceUnavailable(
                reason='the compute agents are too old for serial consoles')
        cctxt = self.client.prepare(server=host, version='1.5', timeout=timeout)
        return cctxt.call(context, 'get_serial_console', instance=instance)

    # -- pause, suspend, rebuild (1.4) ----------------------------------------
    def _cast_14(self, context, host, method, **kwargs):
        cctxt = self._prepare(host, '1.4')
        if not cctxt.can_send_version('1.4'):
            raise exception.ServiceUnavailable(
                reason='the compute service on %s does not know %s yet' % (host, method))
        cctxt.cast(context, method, **kwargs)

    def pause_instance(self, context, host, instance):
        self._cast_14(context, host, 'pause_instance', instance=instance)

    def unpause_instance(self, context, host, instance):
        self._cast_14(context, host, 'unpause_instance', instance=instance)

    def suspend_instance(self, context, host, instance):
        self._cast_14(context, host, 'suspend_instance', instance=instance)

    def resume_instance(self, context, host, instance):
        self._cast_14(context, host, 'resume_instance', instance=instance)

    def rebuild_instance(self, context, host, instance, image_ref, orig_image_ref,
                         network_info):
        """Recreate the root disk from ``image_ref``; on failure the agent
        puts ``orig_image_ref`` back in the books."""
        self._cast_14(context, host, 'rebuild_instance', instance=instance,
                      image_ref=image_ref, orig_image_ref=orig_image_ref,
                      network_info=network_info)

    def snapshot_instance(self, context, host, instance, image_id, upload_url):
        """Copy the root disk of ``instance`` into the queued image
        ``image_id``, PUT to ``upload_url``; the agent clears the task_state."""
        if not self.client.can_send_version('1.6'):
            raise exception.ServiceUnavailable(
                reason='the compute agents are too old for snapshots')
        self.client.prepare(server=host, version='1.6').cast(
            context, 'snapshot_instance', instance=instance, image_id=image_id,
            upload_url=upload_url)

    # -- resize (1.7) ----------------------------------------------------------
    def _cast_17(self, context, host, method, **kwargs):
        cctxt = self._prepare(host, '1.7')
        if not cctxt.can_send_version('1.7'):
            raise exception.ServiceUnavailable(
                reason='the compute service on %s does not know %s yet' % (host, method))
        cctxt.cast(context, method, **kwargs)

    def resize_instance(self, context, host, instance, migration):
        """Redefine the guest with ``migration['new_flavor']`` (on its own
        host): it ends resized (VERIFY_RESIZE) or back where it was."""
        self._cast_17(context, host, 'resize_instance', instance=instance,
                      migration=migration)

    def confirm_resize(self, context, host, instance, migration):
        self._cast_17(context, host, 'confirm_resize', instance=instance,
                      migration=migration)

    def revert_resize(self, context, host, instance, migration):
        """Redefine the guest with ``migration['old_flavor']`` again (its
        root disk stays as grown)."""
        self._cast_17(context, host, 'revert_resize', instance=instance,
                      migration=migration)

    # -- live migration (1.9) --------------------------------------------------
    def _prepare_19(self, host, method, timeout=None):
        cctxt = self.client.prepare(server=host, version='1.9', timeout=timeout)
        if not cctxt.can_send_version('1.9'):
            raise exception.ServiceUnavailable(
                reason='the compute service on %s does not know %s yet' % (host, method))
        return cctxt

    def check_live_migration_destination(self, context, host, instance, timeout=None):
        """None when ``host`` can take ``instance`` live, else why not."""
        return self._prepare_19(host, 'live migration', timeout).call(
            context, 'check_live_migration_destination', instance=instance)

    def live_migration(self, context, host, instance, migration):
        """Move the running guest from ``host`` (its source) to
        ``migration['dest_compute']``; the source reports the outcome."""
        self._prepare_19(host, 'live migration').cast(
            context, 'live_migration', instance=instance, migration=migration)

    def pre_live_migration(self, context, host, instance, migration, source, timeout=None):
        """Make ``host`` ready to receive the guest (image, disk, config
        drive, ports, console port); ``source`` describes the guest on its
        source (domain XML, disk size). Answers what the source migrates
        with: {'xml', 'connect_uri', 'migrate_uri'}."""
        return self._prepare_19(host, 'live migration', timeout).call(
            context, 'pre_live_migration', instance=instance, migration=migration,
            source=source)

    def rollback_live_migration_at_destination(self, context, host, instance,
                                               timeout=None):
        """Remove what a failed live migration left on ``host``."""
        return self._prepare_19(host, 'live migration', timeout).call(
            context, 'rollback_live_migration_at_destination', instance=instance)
