"""The hypervisor driver interface the compute manager calls.

Everything a driver needs arrives as plain dicts (the compute agent has no
database): ``instance`` is

    {'uuid', 'name' (display name), 'hostname', 'project_id', 'user_id',
     'flavor': {'name', 'vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb',
                'swap', 'extra_specs'},
     'image_ref', 'key_name', 'key_data' (public key text or None),
     'user_data' (base64 text or None), 'metadata' {}, 'launch_index',
     'availability_zone', 'created_at'}

``image_meta`` is the image record {'id', 'disk_format', 'size', 'checksum',
'os_hash_algo', 'os_hash_value', 'min_disk', 'properties', ...};
``network_info`` is a list of VIF dicts {'id', 'address' (MAC),
'network': {'id', 'bridge', 'label', 'subnets': [...], 'mtu'}, ...}.

Failure contract, for every driver:

* A method either does what it says or raises a
  ``compute.virt.exception`` error (or a subclass of
  ``common.exception.AltostackError``); anything else is a bug.
* ``spawn`` that fails leaves nothing behind on the host: no domain, no
  overlay disk, no config drive, no instance folder, no plugged VIF and no
  console port reservation. The manager may reschedule elsewhere at once.
* ``destroy`` is idempotent: an instance that is not (or no longer) on the
  host is not an error.
* Methods on one instance are serialised by the driver; different
  instances may be driven concurrently from several threads.
"""

import abc
import importlib

from compute.virt import exception


class ComputeDriver(abc.ABC):
    """What a hypervisor driver offers the compute manager."""

    #: What this driver can do. The manager checks these before it asks.
    capabilities = {
        'has_imagecache': False,          # bases are cached via compute.imagecache
        'supports_config_drive': False,   # spawn always writes a config drive
        'supports_serial_console': False,
        'supports_vnc_console': False,
        'supports_console_output': False,
        'supports_ephemeral_disk': False,  # flavor ephemeral_gb honoured
        'supports_swap': False,            # flavor swap honoured
        'supports_attach_volume': False,
        'supports_attach_interface': False,
        'supports_live_migration': False,
        'supports_snapshot': False,
        'supports_soft_reboot': False,
        'supports_pause': False,
        'supports_suspend': False,
        'supports_rebuild': False,
        'supports_resize': False,          # same-host resize (vCPUs, memory, disk)
        'supports_migrate': False,         # cold moves: export_root_disk, spawn_migrated
    }

    #: The live migration steps (compute/live_migration.py calls them), an
    #: object with check_destination(), source_info(instance),
    #: prepare(instance, image_meta, base_path, network_info, source),
    #: rollback(context, instance), migrate(instance,
    #: dest), abort_job(instance), cleanup_source(instance); None when
    #: the driver cannot live-migrate.
    live_migration = None

    # -- host -----------------------------------------------------------
    @abc.abstractmethod
    def init_host(self, host):
        """Connect to the hypervisor and get ready to serve ``host``.

        Called once before the agent takes RPC calls. Raises
        HypervisorUnavailable if the hypervisor cannot be reached.
        """

    def cleanup_host(self, host):
        """Release connections and threads when the agent stops."""
        return None

    @abc.abstractmethod
    def get_available_resource(self):
        """The host's capacity and what our guests use of it.

        Returns {'vcpus', 'memory_mb', 'local_gb', 'vcpus_used',
        'memory_mb_used', 'local_gb_used', 'hypervisor_type',
        'hypervisor_version', 'hypervisor_hostname', 'cpu_info' (JSON text),
        'disk_available_least'} plus the reserved amounts
        ('vcpus_reserved', 'memory_mb_reserved', 'disk_mb_reserved').
        ``*_used`` include the reserved amounts, as Nova reports them.
        """

    # -- inventory --------------------------------------------------------
    @abc.abstractmethod
    def list_instance_uuids(self):
        """UUIDs of this agent's guests, running or not (its files live in
        this agent's instances_path: other agents may share the hypervisor)."""

    def list_instances(self):
        """Our guests with what they say about themselves (for reconcile).

        Returns a list of {'uuid', 'power_state', 'metadata': {...}} where
        metadata is what spawn recorded (display name, project, user, flavor,
        image, created time); {} if a guest has none.
        """
        raise NotImplementedError()

    @abc.abstractmethod
    def instance_exists(self, instance):
        """True if the instance's guest is defined on this host."""

    # -- life cycle -------------------------------------------------------
    @abc.abstractmethod
    def spawn(self, context, instance, image_meta, base_image_path, network_info,
              block_device_info=None):
        """Create and start the guest from a cached base image.

        ``base_image_path`` is the verified base from compute.imagecache. The
        root disk is an overlay of it, grown to the flavor's root_gb (or the
        image's size when root_gb is 0). ``block_device_info`` is
        {'mapping': [{'connection_info', 'volume_id', 'device',
        'boot_index'}]}: volumes attached at boot; the one with boot_index 0
        is the root disk (vda, no overlay: boot from volume, and
        ``base_image_path``/``image_meta`` may be None). Returns when the guest is started
        (not when it has booted). On failure nothing is left behind (see the
        module docstring) and the error is raised.
        """

    @abc.abstractmethod
    def destroy(self, context, instance, network_info=None, cleanup=True):
        """Stop the guest at once and remove it.

        With ``cleanup`` the instance's files (disk, config drive, console
        log) go too. Idempotent.
        """

    @abc.abstractmethod
    def power_off(self, instance, timeout=None):
        """Stop the guest: ask it (ACPI) and wait up to ``timeout`` seconds
        (None: [compute] shutdown_timeout; 0: no grace), then force it off.
        A guest already off is not an error."""

    @abc.abstractmethod
    def power_on(self, context, instance, network_info):
        """Start a stopped guest. A running guest is not an error."""

    @abc.abstractmethod
    def reboot(self, context, instance, network_info, reboot_type):
        """'SOFT': ask the guest to shut down and start it again; falls back
        to HARD when it does not stop within [compute] shutdown_timeout.
        'HARD': force it off and start it again."""

    # -- pause, suspend, rebuild (capabilities 'supports_pause', ...) --------
    def pause(self, instance):
        """Freeze the running guest in memory (power state PAUSED). A
        paused guest is not an error."""
        raise exception.NotSupported(what='pause')

    def unpause(self, instance):
        """Let a paused guest run on (RUNNING). A running guest is not an
        error."""
        raise exception.NotSupported(what='unpause')

    def suspend(self, context, instance):
        """Save the guest's memory to disk and stop it (SUSPENDED); it
        holds no CPU or memory on the host until resumed. A suspended guest
        is not an error."""
        raise exception.NotSupported(what='suspend')

    def resume(self, context, instance, network_info):
        """Start a suspended guest where it stopped (RUNNING). A running
        guest is not an error."""
        raise exception.NotSupported(what='resume')

    def rebuild(self, context, instance, image_meta, base_image_path, network_info,
                power_on=True):
        """Stop the guest, replace its root disk with a fresh one from
        ``base_image_path`` (as spawn makes it) and its config drive, keep its
        NICs and volumes, and start it again when ``power_on``.

        On failure the old root disk is kept, the guest is started again if
        it ran before, and the error is raised; but RebuiltNotStarted says
        the new disk is in place and only the start failed."""
        raise exception.NotSupported(what='rebuild')

    def resize(self, context, instance, network_info, power_on=True):
        """Give the guest the vCPUs and memory of ``instance['flavor']`` on
        this host: stop it (gracefully, within [compute] shutdown_timeout),
        grow its root disk to the flavor's root_gb if that is bigger (never
        shrink), redefine it with everything else kept (NICs, volumes,
        console port, config drive) and start it when ``power_on``.

        On failure the guest gets its old definition back (a root disk that
        grew stays grown), is started again when ``power_on``, and the error
        is raised."""
        raise exception.NotSupported(what='resize')

    # -- cold moves between hosts (capability 'supports_migrate') -------------
    def export_root_disk(self, instance, address, timeout):
        """Serve the stopped guest's root disk read-only on ``address`` for
        at most ``timeout`` seconds; its URL, or None when the server boots
        from a volume."""
        raise exception.NotSupported(what='migrate')

    def end_export(self, instance):
        """Stop what export_root_disk started (also one a previous run of
        the agent left). Idempotent."""
        raise exception.NotSupported(what='migrate')

    def spawn_migrated(self, context, instance, disk_url, network_info,
                       block_device_info=None, power_on=True, timeout=1800):
        """Like spawn, with the root disk copied from ``disk_url`` (another
        host's export_root_disk; None: boot from volume) and grown to the
        flavor's root_gb; the guest is started when ``power_on``."""
        raise exception.NotSupported(what='migrate')

    # -- interfaces (capability 'supports_attach_interface') -----------------
    def attach_interface(self, context, instance, image_meta, vif):
        """Hot-plug the NIC of ``vif`` (one network_info entry) into the
        guest: live and in its definition when it runs, in its definition
        only when it is off. The host side (bridge, DHCP, firewall) is
        ready before this is called. A NIC with that MAC already attached
        is not an error."""
        raise exception.NotSupported(what='attach_interface')

    def detach_interface(self, context, instance, vif):
        """Remove the NIC with ``vif['address']`` from the guest (waiting,
        bounded, until a running guest releases it) and from its
        definition. A NIC that is not attached is not an error."""
        raise exception.NotSupported(what='detach_interface')

    # -- volumes (capability 'supports_attach_volume') ------------------------
    def attach_volume(self, context, instance, connection_info, volume_id, device=None):
        """Attach the volume described by ``connection_info`` (the volume
        service's initialize_connection answer: {'driver_volume_type':
        'file'|'nbd', 'data': {...}}) as a virtio disk whose serial is
        ``volume_id``: live and in the definition when the guest runs, in
        the definition only when it is off. ``device`` ('vdc' or
        '/dev/vdc') is a wish; the next free vdb..vdz otherwise. Returns the
        device name used. A volume already attached answers its device."""
        raise exception.NotSupported(what='attach_volume')

    def detach_volume(self, context, instance, volume_id):
        """Remove the disk whose serial is ``volume_id``, waiting (bounded)
        for a running guest to release it; VolumeDetachFailed when it does
        not. A volume that is not attached is not an error."""
        raise exception.NotSupported(what='detach_volume')

    def list_volume_attachments(self, instance):
        """[{'volume_id', 'device'}] of the volumes the guest has (for the
        agent's reconciliation)."""
        raise exception.NotSupported(what='list_volume_attachments')

    # -- snapshots (capability 'supports_snapshot') ---------------------------
    def snapshot(self, context, instance, out_path):
        """Write the guest's root disk as it is now to ``out_path``: a
        standalone qcow2 (no backing file) holding what the guest wrote.

        A running (or paused) guest keeps running: the copy is consistent
        at one instant (crash-consistent: what the guest had not flushed
        is not in it). A stopped guest's disk is copied as it lies. A
        server booted from a volume has no root disk here: NotSupported.
        On failure nothing is left behind (no ``out_path``, no temporary
        file, no block job) and the guest is as it was.
        """
        raise exception.NotSupported(what='snapshot')

    def abort_snapshot(self, instance):
        """Remove what a snapshot cut short (the agent died) left: a block
        job still copying, temporary files. Idempotent."""
        return None

    # -- observation ------------------------------------------------------
    @abc.abstractmethod
    def get_info(self, instance):
        """{'state': power_state.*}. Raises GuestNotFound."""

    @abc.abstractmethod
    def get_console_output(self, instance, max_bytes=None):
        """The last ``max_bytes`` of the guest's serial console log (text)."""

    @abc.abstractmethod
    def get_serial_console(self, instance):
        """{'host', 'port'} of the guest's raw TCP serial console.

        Raises ConsoleNotAvailable when the guest is not running.
        """

    @abc.abstractmethod
    def get_vnc_console(self, instance):
        """{'host', 'port'} of the guest's VNC display, as the noVNC proxy
        reaches it (an address of this host).

        Raises GraphicalConsoleNotAvailable (a ConsoleNotAvailable) when
        the guest is not running or has no display.
        """


# Explicit registry of drivers: [compute] compute_driver -> class.
DRIVERS = {
    'libvirt': 'compute.virt.libvirt.driver.LibvirtDriver',
    'fake': 'compute.virt.fake.FakeDriver',
}


def load_driver(name):
    """Instantiate the driver called ``name`` (imports it only now, so hosts
    without libvirt-python can still run the fake driver)."""
    module, _, cls = DRIVERS[name].rpartition('.')
    return getattr(importlib.import_module(module), cls)()
