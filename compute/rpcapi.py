"""Client of the compute agents (topic compute.<host>).

Instances travel as the plain dicts of common.db.instances.to_dict: the
agents hold no database credentials.

Version history:

    1.0 - ping (call)
    1.1 - build_and_run_instance, stop_instance, start_instance,
          reboot_instance, terminate_instance (casts); get_console_output,
          get_host_uptime (calls)
    1.2 - refresh_network (cast: sync the host's data plane with the records);
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
    1.8 - resize_instance, confirm_resize and revert_resize may name
          another host (migration source_compute != dest_compute: the
          source sends the disk, confirm goes to the source, revert to the
          destination); finish_migration (call: the destination pulls the
          disk and starts the guest), finish_revert_migration (cast: the
          source starts its old guest again), cleanup_migration (cast: a
          host drops its copy of a deleted server)
    1.9 - check_live_migration_destination, pre_live_migration,
          rollback_live_migration_at_destination (calls, on the
          destination); live_migration (cast, on the source)
    1.10 - evacuate_instance (cast to the destination: rebuild there a
          server whose host is down, with its volumes and ports)
    1.11 - get_vnc_console (call: where the guest's VNC display listens)
"""

from common import exception
from common import rpc

TOPIC = 'compute'


class ComputeAPI:
    VERSION = '1.11'

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

    def get_vnc_console(self, context, host, instance, timeout=None):
        """{'host', 'port'} of the VNC display of ``instance`` on its host
        (an address of that host the noVNC proxy reaches)."""
        cctxt = self.client.prepare(server=host, version='1.11', timeout=timeout)
        if not cctxt.can_send_version('1.11'):
            raise exception.ServiceUnavailable(
                reason='the compute agents are too old for VNC consoles')
        return cctxt.call(context, 'get_vnc_console', instance=instance)

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
        puts ``orig_image_ref`` back in the records."""
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

    # -- resize (1.7), moves between hosts (1.8) ---------------------------------
    @staticmethod
    def _resize_version(migration):
        """1.8 for a move to another host, which a 1.7 agent would take for
        a resize in place."""
        return '1.8' if migration.get('source_compute') != migration.get('dest_compute') \
            else '1.7'

    def resize_instance(self, context, host, instance, migration):
        """Redefine the guest with ``migration['new_flavor']`` (on its own
        host), or send it to ``migration['dest_compute']``: it ends
        resized (VERIFY_RESIZE) or back where it was."""
        self._cast_v(self._resize_version(migration), context, host, 'resize_instance',
                     instance=instance, migration=migration)

    def confirm_resize(self, context, host, instance, migration):
        self._cast_v(self._resize_version(migration), context, host, 'confirm_resize',
                     instance=instance, migration=migration)

    def revert_resize(self, context, host, instance, migration):
        """Redefine the guest with ``migration['old_flavor']`` again (its
        root disk stays as grown), or, after a move, drop the destination's
        copy and start the source's again."""
        self._cast_v(self._resize_version(migration), context, host, 'revert_resize',
                     instance=instance, migration=migration)

    # -- moves between hosts (1.8) ----------------------------------------------
    def _cast_v(self, version, context, host, method, **kwargs):
        cctxt = self._prepare(host, version)
        if not cctxt.can_send_version(version):
            raise exception.ServiceUnavailable(
                reason='the compute service on %s does not know %s yet' % (host, method))
        cctxt.cast(context, method, **kwargs)

    def finish_migration(self, context, host, instance, migration, disk_url, timeout):
        """The destination ``host`` copies the root disk from ``disk_url``
        (None: boot from volume), starts the guest with the new flavor and
        reports the move finished: {'ok': True}, or {'ok': False,
        'message'} with nothing left there."""
        cctxt = self.client.prepare(server=host, version='1.8', timeout=timeout)
        return cctxt.call(context, 'finish_migration', instance=instance,
                          migration=migration, disk_url=disk_url)

    def finish_revert_migration(self, context, host, instance, migration):
        """The source ``host`` starts its old guest again and reports the
        revert."""
        self._cast_v('1.8', context, host, 'finish_revert_migration', instance=instance,
                     migration=migration)

    def cleanup_migration(self, context, host, instance, migration):
        """``host`` drops its guest and disk of a server deleted while it
        was moving or waiting to be confirmed."""
        self._cast_v('1.8', context, host, 'cleanup_migration', instance=instance,
                     migration=migration)

    # -- evacuation (1.10) -------------------------------------------------------
    def evacuate_instance(self, context, host, instance, migration, network_info):
        """Rebuild ``instance`` (with its 'block_devices') on ``host``, the
        destination of ``migration``; the agent reports to the scheduler."""
        cctxt = self._prepare(host, '1.10')
        if not cctxt.can_send_version('1.10'):
            raise exception.ServiceUnavailable(
                reason='the compute service on %s does not know evacuate_instance yet' % host)
        cctxt.cast(context, 'evacuate_instance', instance=instance, migration=migration,
                   network_info=network_info)

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
