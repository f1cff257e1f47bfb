"""LibvirtDriver: the compute agent's guests as libvirt/QEMU domains.

Orchestration only: the Host holds the connection, a Guest drives one
domain, the designer decides the domain's shape and config renders it.
Parts of the driver live beside it: inventory.py (this agent's guests,
their state, the serial and VNC consoles), power.py (destroy and the power
actions), hotplug.py and cold_migration.py; live_migration.py is its
``live_migration`` object.
Files of an instance live in [compute] instances_path/<uuid>/:
disk (qcow2 overlay of the cached base), disk.config (config drive ISO)
and console.log (everything the serial console printed, appended across
boots). The domain is named altostack-<uuid> and its UUID is the
instance's.
"""

import glob
import json
import os
import re
import secrets
import shutil
import time

import libvirt
from oslo_log import log as logging

from common import exception as common_exc
from common.conf import CONF
from common.host import disk
from compute.virt import configdrive
from compute.virt import driver
from compute.virt import exception
from compute.virt import locks
from compute.virt import vif as vif_mod
from compute.virt.libvirt import ceph_secret
from compute.virt.libvirt import cold_migration
from compute.virt.libvirt import config as config_mod
from compute.virt.libvirt import designer
from compute.virt.libvirt import host as host_mod
from compute.virt.libvirt import hotplug
from compute.virt.libvirt import inventory
from compute.virt.libvirt import live_migration
from compute.virt.libvirt import ports as ports_mod
from compute.virt.libvirt import power

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
MAX_CONSOLE_BYTES = 100 * 1024
DISK = 'disk'
CONFIG_DRIVE = 'disk.config'
CONSOLE_LOG = 'console.log'
# Snapshots: the live copy is made beside the disk (qemu writes it), then
# moved to where the caller wants it.
SNAPSHOT_TMP_PREFIX = 'disk.snap-'
SNAPSHOT_COPY_TIMEOUT = 1800.0
SNAPSHOT_CONVERT_TIMEOUT = 1800
_UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$')


_libvirt_errors = host_mod.libvirt_errors


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class LibvirtDriver(inventory.Inventory, power.PowerActions, cold_migration.ColdMoves,
                    hotplug.Hotplug, driver.ComputeDriver):
    capabilities = dict(driver.ComputeDriver.capabilities,
                        has_imagecache=True,
                        supports_config_drive=True,
                        supports_serial_console=True,
                        supports_vnc_console=True,
                        supports_console_output=True,
                        supports_soft_reboot=True,
                        supports_attach_interface=True,
                        supports_attach_volume=True,
                        supports_pause=True,
                        supports_suspend=True,
                        supports_rebuild=True,
                        supports_snapshot=True,
                        supports_resize=True,
                        supports_migrate=True,
                        supports_live_migration=True)

    def __init__(self, uri=None, vif_driver=None, lifecycle_handler=None):
        self.uri = uri or CONF.compute.libvirt_uri
        self.host = host_mod.Host(self.uri, lifecycle_handler=lifecycle_handler)
        self.vif_driver = vif_driver or vif_mod.get_vif_driver(CONF.compute.vif_driver)
        self.ports = ports_mod.ConsolePorts(
            self._domain_console_ports, CONF.compute.console_host,
            CONF.compute.console_port_min, CONF.compute.console_port_max)
        self._locks = locks.KeyedLocks()
        self.live_migration = live_migration.LiveMigration(self, DISK, CONFIG_DRIVE,
                                                          CONSOLE_LOG)
        self.timings = {}  # last spawn's phases, seconds (for logs and benchmarks)

    # -- host -------------------------------------------------------------
    @property
    def virt_type(self):
        # libvirt's test driver (unit tests) knows only type='test'.
        return 'test' if self.host.is_test_driver else CONF.compute.virt_type

    @property
    def instances_path(self):
        return CONF.compute.instances_path

    def set_lifecycle_handler(self, handler):
        """``handler(uuid, power_state)`` for guests that change state on
        their own; called from the libvirt event thread, must not block."""
        self.host.set_lifecycle_handler(handler)

    @_libvirt_errors
    def init_host(self, host):
        if self.virt_type == 'kvm' and not os.path.exists('/dev/kvm'):
            raise exception.VirtError(reason='[compute] virt_type is kvm but /dev/kvm '
                                             'is missing; use virt_type = qemu')
        self.host.initialize()
        os.makedirs(self.instances_path, exist_ok=True)
        LOG.info('Libvirt driver ready on %s: %s %s, libvirt %s, %s domains, '
                 'instances in %s', host, self.host.get_hypervisor_type(), self.virt_type,
                 self.host.get_libvirt_version(), len(self.list_instance_uuids()),
                 self.instances_path)

    def cleanup_host(self, host):
        self.host.close()

    def _domain_console_ports(self):
        return [s['port'] for c in self.host.list_domain_configs() for s in c['serial_tcp']]

    # -- paths ------------------------------------------------------------
    def instance_dir(self, instance_or_uuid):
        uuid = instance_or_uuid if isinstance(instance_or_uuid, str) \
            else instance_or_uuid['uuid']
        if not isinstance(uuid, str) or not _UUID_RE.match(uuid):  # used as a path
            raise exception.VirtError(reason='bad instance uuid %r' % uuid)
        return os.path.join(self.instances_path, uuid)

    # -- spawn ------------------------------------------------------------
    def _root_disk_size(self, instance, image_meta, base_path, base_format):
        virtual = disk.image_info(base_path, base_format)['virtual-size']
        root_gb = int(instance['flavor'].get('root_gb') or 0)
        if not root_gb:
            return None
        if root_gb * GiB < virtual:
            raise exception.FlavorDiskSmallerThanImage(
                flavor_size=root_gb * GiB, image_size=virtual,
                image_id=image_meta.get('id'))
        return root_gb * GiB

    @staticmethod
    def _volume_mapping(block_device_info):
        """(root volume entry or None, other volume entries) of
        block_device_info {'mapping': [{'connection_info', 'volume_id',
        'device', 'boot_index'}]}."""
        if block_device_info and block_device_info.get('block_device_mapping'):
            raise exception.NotSupported(what='block_device_mapping (use mapping)')
        mapping = list((block_device_info or {}).get('mapping') or [])
        root = [m for m in mapping if str(m.get('boot_index')) == '0']
        if len(root) > 1:
            raise exception.NotSupported(what='more than one volume with boot_index 0')
        others = [m for m in mapping if str(m.get('boot_index')) != '0']
        return (root[0] if root else None), others

    def _volume_devices(self, root_volume, volumes):
        """Config objects of the volumes a spawn attaches: the root volume
        as vda, the others at their device or the next free one."""
        devices = []
        used = {'vda', 'hda'}
        for entry, dev in [(root_volume, 'vda')] + [(m, None) for m in volumes]:
            if entry is None:
                continue
            if dev is None:
                dev = designer.next_volume_target(used, entry.get('device'))
                if dev is None:
                    raise exception.NotSupported(what='more than %d volumes'
                                                 % len(designer.VOLUME_TARGETS))
            used.add(dev)
            devices.append(self._volume_config(entry['connection_info'],
                                               entry['volume_id'], dev))
        return devices

    def _volume_config(self, connection_info, volume_id, dev):
        cache = 'none'
        if connection_info.get('driver_volume_type') == 'rbd':
            connection_info = dict(connection_info, data=ceph_secret.rbd_auth(
                connection_info.get('data') or {}))
            ceph_secret.ensure_ceph_secret(self.host.get_connection())
            cache = 'writeback'  # librbd's cache, as Nova gives network disks
        if connection_info.get('driver_volume_type') == 'file':
            path = (connection_info.get('data') or {}).get('path') or ''
            cache = 'none' if disk.supports_direct_io(os.path.dirname(path)) \
                else 'writeback'
        try:
            return designer.volume_disk(connection_info, volume_id, dev, cache)
        except (ValueError, KeyError, TypeError) as e:
            raise exception.NotSupported(what='volume connection %s (%s)'
                                         % (connection_info.get('driver_volume_type'), e)
                                         ) from e

    def _check_request(self, instance, image_meta, block_device_info):
        root_volume, _others = self._volume_mapping(block_device_info)
        if root_volume is None and \
                image_meta.get('disk_format') not in disk.SUPPORTED_BASE_FORMATS:
            raise exception.ImageUnacceptable(
                image_id=image_meta.get('id'),
                reason='disk format %s is not supported' % image_meta.get('disk_format'))
        flavor = instance['flavor']
        if flavor.get('ephemeral_gb') or flavor.get('swap'):
            LOG.warning('Instance %s: flavor %s asks for ephemeral/swap disks, which this '
                        'driver does not create yet', instance['uuid'], flavor.get('name'))

    @_libvirt_errors
    def spawn(self, context, instance, image_meta, base_image_path, network_info,
              block_device_info=None, make_root=None, power_on=True):
        uuid = instance['uuid']
        self._check_request(instance, image_meta, block_device_info)
        root_volume, volumes = self._volume_mapping(block_device_info)
        volume_devices = self._volume_devices(root_volume, volumes)
        network_info = network_info or []
        with self._locks(uuid):
            if self.host.find_guest(uuid) is not None:
                raise exception.InstanceExists(instance_id=uuid)
            inst_dir = self.instance_dir(uuid)
            made = {'dir': False, 'guest': None, 'vifs': []}
            t = {}
            try:
                t0 = time.monotonic()
                if os.path.exists(inst_dir):
                    LOG.warning('Removing stale files of %s from an earlier attempt', uuid)
                    shutil.rmtree(inst_dir)
                os.makedirs(inst_dir)
                made['dir'] = True
                disk_path = None
                if root_volume is None:  # else: boot from volume, no overlay
                    disk_path = os.path.join(inst_dir, DISK)
                if make_root is not None and disk_path:  # a disk brought from elsewhere
                    make_root(disk_path)
                elif disk_path:
                    disk.create_overlay(
                        base_image_path, image_meta['disk_format'], disk_path,
                        self._root_disk_size(instance, image_meta, base_image_path,
                                             image_meta['disk_format']))
                t['overlay'] = time.monotonic() - t0
                t1 = time.monotonic()
                cd_path = os.path.join(inst_dir, CONFIG_DRIVE)
                configdrive.build(instance, network_info, cd_path)
                t['config_drive'] = time.monotonic() - t1
                for vif in network_info:
                    made['vifs'].append(vif)
                    self.vif_driver.plug(instance, vif)
                t2 = time.monotonic()
                with self.ports.reserve() as port:
                    cfg = designer.guest_config(
                        instance, self.virt_type, disk_path, cd_path,
                        CONF.compute.console_host, port,
                        os.path.join(inst_dir, CONSOLE_LOG),
                        [self.vif_driver.guest_interface_xml(v) for v in network_info],
                        disk_cache='none' if disk.supports_direct_io(inst_dir)
                        else 'writeback', volume_devices=volume_devices,
                        vnc_listen=CONF.vnc.server_listen if CONF.vnc.enabled else None)
                    made['guest'] = self.host.define(cfg.to_xml())
                if power_on:
                    made['guest'].launch()
                t['define_start'] = time.monotonic() - t2
                t['total'] = time.monotonic() - t0
            except Exception as e:
                LOG.warning('Spawning %s failed (%s); cleaning up', uuid, e)
                self._undo_spawn(instance, inst_dir, made)
                if isinstance(e, common_exc.AltostackError):
                    raise
                raise exception.InstanceSpawnFailure(instance_id=uuid, reason=str(e)) from e
        self.timings = t
        LOG.info('Spawned %s on console port %d (%s)', uuid, port,
                 ', '.join('%s %.2fs' % kv for kv in t.items()))

    def _undo_spawn(self, instance, inst_dir, made):
        if made['guest'] is not None:
            try:
                made['guest'].poweroff()
                made['guest'].undefine()
            except libvirt.libvirtError:
                LOG.exception('Could not remove the domain of failed spawn %s',
                              instance['uuid'])
        for vif in made['vifs']:
            try:
                self.vif_driver.unplug(instance, vif)
            except Exception:  # noqa: BLE001 - keep cleaning
                LOG.exception('Could not unplug VIF %s', vif.get('id'))
        if made['dir']:
            shutil.rmtree(inst_dir, ignore_errors=True)

    # -- rebuild --------------------------------------------------------------
    @_libvirt_errors
    def rebuild(self, context, instance, image_meta, base_image_path, network_info,
                power_on=True):
        """The domain stays defined (NICs, volumes, console port kept); its
        root disk and config drive are made anew beside the old ones and
        swapped in while it is off."""
        uuid = instance['uuid']
        self._check_request(instance, image_meta, None)
        inst_dir = self.instance_dir(uuid)
        disk_path = os.path.join(inst_dir, DISK)
        cd_path = os.path.join(inst_dir, CONFIG_DRIVE)
        new_disk, new_cd = disk_path + '.rebuild', cd_path + '.rebuild'
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            if not os.path.exists(disk_path):
                raise exception.NotSupported(what='rebuilding a server without a local '
                                                  'root disk')
            was_running = guest.is_active()
            try:
                for path in (new_disk, new_cd):  # left by a rebuild cut short
                    if os.path.exists(path):
                        os.unlink(path)
                disk.create_overlay(
                    base_image_path, image_meta['disk_format'], new_disk,
                    self._root_disk_size(instance, image_meta, base_image_path,
                                         image_meta['disk_format']))
                configdrive.build(instance, network_info or [], new_cd)
                how = guest.shutdown(CONF.compute.shutdown_timeout)
                guest.discard_managed_save()  # the old memory belongs to the old disk
                os.replace(new_disk, disk_path)
                os.replace(new_cd, cd_path)
            except Exception:
                for path in (new_disk, new_cd):
                    if os.path.exists(path):
                        os.unlink(path)
                if was_running and not guest.is_active():
                    LOG.warning('Rebuild of %s failed; starting it again on its old disk',
                                uuid)
                    guest.launch()
                raise
            self._record_metadata(guest, instance, 'image')
            if power_on:
                try:
                    self._plug_vifs(instance, network_info)
                    guest.launch()
                except Exception as e:
                    raise exception.RebuiltNotStarted(instance_id=uuid, reason=str(e)) from e
        LOG.info('Rebuilt %s from image %s (old guest stopped: %s)%s', uuid,
                 image_meta.get('id'), how, '' if power_on else ', left off')

    @staticmethod
    def _record_metadata(guest, instance, what):
        """Our <metadata> after a rebuild or resize; it only informs the
        reconcile, so a failure is logged and the action goes on."""
        try:
            guest.set_metadata(designer.instance_metadata(instance))
        except libvirt.libvirtError as e:
            LOG.warning('Could not record the new %s of %s in its domain: %s', what,
                        instance['uuid'], e)

    # -- resize -------------------------------------------------------------
    @_libvirt_errors
    def resize(self, context, instance, network_info, power_on=True):
        uuid = instance['uuid']
        flavor = instance['flavor']
        disk_path = os.path.join(self.instance_dir(uuid), DISK)
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            old_xml = guest.get_inactive_xml_desc()
            how = guest.shutdown(CONF.compute.shutdown_timeout)
            guest.discard_managed_save()  # saved memory of the old size cannot come back
            grew = False
            try:
                root_gb = int(flavor.get('root_gb') or 0)
                if root_gb and os.path.exists(disk_path):
                    grew = disk.grow(disk_path, root_gb * GiB)
                guest = self.host.define(config_mod.with_size(
                    old_xml, flavor['vcpus'], flavor['memory_mb']))
                if power_on:
                    self._plug_vifs(instance, network_info)
                    guest.launch()
            except Exception as e:
                LOG.warning('Resize of %s failed (%s); its old definition goes back%s', uuid,
                            e, ' (the root disk stays grown)' if grew else '')
                guest = self.host.define(old_xml)
                if power_on and not guest.is_active():
                    guest.launch()
                raise
            self._record_metadata(guest, instance, 'flavor')
        LOG.info('Resized %s to %s (%d vCPUs, %d MB%s; old guest stopped: %s)%s', uuid,
                 flavor.get('name'), flavor['vcpus'], flavor['memory_mb'],
                 ', disk grown to %d GB' % flavor['root_gb'] if grew else '', how,
                 '' if power_on else ', left off')

    # -- snapshots ----------------------------------------------------------
    @_libvirt_errors
    def snapshot(self, context, instance, out_path):
        """The root disk as a standalone qcow2 at ``out_path``.

        Running or paused guest: a block copy (RECIPES item 5 A) into a
        temporary file in the instance's folder, ended once it has caught
        up, so it holds the disk of that instant with the base flattened
        in; the guest never stops. Stopped guest: qemu-img convert of the
        overlay and its base. Nothing is left behind on failure.
        """
        uuid = instance['uuid']
        with self._locks(uuid):
            guest = self.host.get_guest(uuid)
            inst_dir = self.instance_dir(uuid)
            disk_path = os.path.join(inst_dir, DISK)
            if not os.path.exists(disk_path):
                raise exception.NotSupported(
                    what='snapshots of servers booted from volumes')
            t0 = time.monotonic()
            tmp = None
            try:
                if guest.is_active():
                    how = 'live block copy'
                    guest.abort_block_job('vda')  # one a dead agent left running
                    tmp = os.path.join(inst_dir, '%s%s.qcow2' % (SNAPSHOT_TMP_PREFIX,
                                                                 secrets.token_hex(4)))
                    try:
                        guest.copy_disk('vda', tmp, SNAPSHOT_COPY_TIMEOUT)
                    except TimeoutError as e:
                        raise exception.SnapshotFailed(instance_id=uuid, reason=str(e)
                                                       ) from e
                    shutil.move(tmp, out_path)
                else:
                    how = 'offline convert'
                    disk.flatten_to_qcow2(disk_path, 'qcow2', out_path,
                                          timeout=SNAPSHOT_CONVERT_TIMEOUT)
            except BaseException:
                for path in (tmp, out_path):
                    if path:
                        _remove(path)
                raise
        LOG.info('Snapshot of %s written to %s (%s, %d bytes, %.2fs)', uuid, out_path, how,
                 os.path.getsize(out_path), time.monotonic() - t0)

    def abort_snapshot(self, instance):
        uuid = instance['uuid']
        with self._locks(uuid):
            try:
                guest = self.host.find_guest(uuid)
                if guest is not None and guest.is_active():
                    guest.abort_block_job('vda')
            except libvirt.libvirtError as e:
                LOG.warning('Could not look for a block job of %s: %s', uuid, e)
            for path in glob.glob(os.path.join(self.instance_dir(uuid),
                                               SNAPSHOT_TMP_PREFIX + '*')):
                _remove(path)

    # -- observation ------------------------------------------------------
    # -- observation (the rest: inventory.py) -----------------------------
    @_libvirt_errors
    def get_console_output(self, instance, max_bytes=None):
        max_bytes = MAX_CONSOLE_BYTES if max_bytes is None else int(max_bytes)
        path = os.path.join(self.instance_dir(instance), CONSOLE_LOG)
        if not self.instance_exists(instance):
            raise exception.GuestNotFound(instance_id=instance['uuid'])
        try:
            with open(path, 'rb') as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                data = f.read(max_bytes)
        except FileNotFoundError:
            return ''
        return data.decode('utf-8', 'replace')

    # -- resources --------------------------------------------------------
    def _disk_usage(self, uuids):
        """(virtual bytes, over-commit bytes) of our instances' disks."""
        virtual = overcommit = 0
        for uuid in uuids:
            inst_dir = os.path.join(self.instances_path, uuid)
            for name in (DISK,):
                path = os.path.join(inst_dir, name)
                header = disk.read_qcow2_header(path)
                if header is None:
                    continue
                virtual += header['virtual_size']
                overcommit += max(0, header['virtual_size'] - disk.allocated_bytes(path))
        return virtual, overcommit

    @_libvirt_errors
    def get_available_resource(self):
        ccfg = CONF.compute
        info = self.host.get_host_info()
        os.makedirs(self.instances_path, exist_ok=True)
        st = os.statvfs(self.instances_path)
        disk_total = st.f_frsize * st.f_blocks
        disk_free = st.f_frsize * st.f_bavail
        vcpus_used = memory_used = 0
        uuids = []
        for guest, _conf in self._my_guests():
            try:
                gi = guest.get_info()
                uuids.append(guest.uuid)
            except libvirt.libvirtError as e:
                if host_mod.is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                    continue
                raise
            vcpus_used += gi['vcpus']
            memory_used += gi['max_mem_kib'] // 1024
        virtual, overcommit = self._disk_usage(uuids)
        return {
            'vcpus': info['cpus'],
            'memory_mb': info['memory_mb'],
            'local_gb': disk_total // GiB,
            'vcpus_used': vcpus_used + ccfg.reserved_host_cpus,
            'memory_mb_used': memory_used + ccfg.reserved_host_memory_mb,
            'local_gb_used': (virtual + ccfg.reserved_host_disk_mb * 1024 * 1024) // GiB,
            'vcpus_reserved': ccfg.reserved_host_cpus,
            'memory_mb_reserved': ccfg.reserved_host_memory_mb,
            'disk_mb_reserved': ccfg.reserved_host_disk_mb,
            'hypervisor_type': self.host.get_hypervisor_type(),
            'hypervisor_version': self.host.get_hypervisor_version(),
            'hypervisor_hostname': self.host.get_hostname(),
            'cpu_info': json.dumps(self.host.get_cpu_info(), sort_keys=True),
            'disk_available_least': (disk_free - overcommit) // GiB,
        }
