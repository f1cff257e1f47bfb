"""FakeDriver: guests kept in memory, for the compute manager's unit tests.

It keeps the same contract as the real driver (errors, idempotent destroy,
nothing left behind by a failed spawn) and lets a test make the next spawn
fail: ``driver.fail_next_spawn = exception.InstanceSpawnFailure(...)``;
likewise ``fail_next_snapshot``.
"""

import json
import struct
import threading

from compute.virt import driver
from compute.virt import exception
from compute.virt import power_state


class FakeDriver(driver.ComputeDriver):
    capabilities = dict(driver.ComputeDriver.capabilities,
                        supports_migrate=True,
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
                        supports_snapshot=True, supports_resize=True,
                        supports_live_migration=True)

    def __init__(self):
        self._lock = threading.Lock()
        self.instances = {}   # uuid -> {'state', 'instance', 'port', 'console', 'vifs'}
        self.fail_next_spawn = None
        self.fail_next = {}  # method name -> error its next call raises
        self.fail_next_snapshot = None
        self.calls = []
        self._next_port = 10000
        self.live_migration = FakeLiveMigration(self)

    def init_host(self, host):
        self.calls.append(('init_host', host))

    def get_available_resource(self):
        with self._lock:
            flavors = [i['instance']['flavor'] for i in self.instances.values()]
        return {'vcpus': 8, 'memory_mb': 16384, 'local_gb': 100,
                'vcpus_used': sum(f['vcpus'] for f in flavors),
                'memory_mb_used': 512 + sum(f['memory_mb'] for f in flavors),
                'local_gb_used': sum(f.get('root_gb') or 0 for f in flavors),
                'vcpus_reserved': 0, 'memory_mb_reserved': 512, 'disk_mb_reserved': 0,
                'hypervisor_type': 'fake', 'hypervisor_version': 1000,
                'hypervisor_hostname': 'fake-hypervisor',
                'cpu_info': json.dumps({'arch': 'x86_64', 'model': 'fake', 'vendor': 'fake',
                                        'topology': {'sockets': 1, 'cores': 8,
                                                     'threads': 1}, 'features': []}),
                'disk_available_least': 100}

    def list_instance_uuids(self):
        with self._lock:
            return list(self.instances)

    def list_instances(self):
        with self._lock:
            return [{'uuid': u, 'name': 'altostack-' + u, 'power_state': i['state'],
                     'metadata': {'name': i['instance'].get('name'),
                                  'project_id': i['instance'].get('project_id'),
                                  'user_id': i['instance'].get('user_id'),
                                  'image_id': i['instance'].get('image_ref'),
                                  'flavor': dict(i['instance'].get('flavor') or {})}}
                    for u, i in self.instances.items()]

    def instance_exists(self, instance):
        return instance['uuid'] in self.instances

    def _get(self, instance):
        try:
            return self.instances[instance['uuid']]
        except KeyError:
            raise exception.GuestNotFound(instance_id=instance['uuid']) from None

    def spawn(self, context, instance, image_meta, base_image_path, network_info,
              block_device_info=None):
        self.calls.append(('spawn', instance['uuid']))
        with self._lock:
            if self.fail_next_spawn is not None:
                err, self.fail_next_spawn = self.fail_next_spawn, None
                raise err
            if instance['uuid'] in self.instances:
                raise exception.InstanceExists(instance_id=instance['uuid'])
            self.instances[instance['uuid']] = {
                'state': power_state.RUNNING, 'instance': instance, 'port': self._next_port,
                'console': 'fake console of %s\n' % instance['uuid'],
                'vifs': [dict(v) for v in network_info or []],
                'volumes': {m['volume_id']: m.get('device') or 'vd' + 'abcdefghij'[i]
                            for i, m in enumerate(sorted(
                                (block_device_info or {}).get('mapping') or [],
                                key=lambda m: str(m.get('boot_index')) != '0'))}}
            self._next_port += 1

    def destroy(self, context, instance, network_info=None, cleanup=True):
        self.calls.append(('destroy', instance['uuid']))
        with self._lock:
            self.instances.pop(instance['uuid'], None)

    def power_off(self, instance, timeout=None):
        self._get(instance)['state'] = power_state.SHUTDOWN

    def power_on(self, context, instance, network_info):
        self._get(instance)['state'] = power_state.RUNNING

    def reboot(self, context, instance, network_info, reboot_type):
        if reboot_type not in ('SOFT', 'HARD'):
            raise exception.NotSupported(what='reboot type %s' % reboot_type)
        self._get(instance)['state'] = power_state.RUNNING

    def _maybe_fail(self, method):
        err = self.fail_next.pop(method, None)
        if err is not None:
            raise err

    def _move(self, instance, method, allowed, to):
        self.calls.append((method, instance['uuid']))
        entry = self._get(instance)
        self._maybe_fail(method)
        if entry['state'] not in allowed | {to}:
            raise exception.VirtError(reason='cannot %s a guest in power state %s'
                                      % (method, entry['state']))
        entry['state'] = to

    def pause(self, instance):
        self._move(instance, 'pause', {power_state.RUNNING}, power_state.PAUSED)

    def unpause(self, instance):
        self._move(instance, 'unpause', {power_state.PAUSED}, power_state.RUNNING)

    def suspend(self, context, instance):
        self._move(instance, 'suspend', {power_state.RUNNING, power_state.PAUSED},
                   power_state.SUSPENDED)

    def resume(self, context, instance, network_info):
        self._move(instance, 'resume', {power_state.SUSPENDED}, power_state.RUNNING)

    def rebuild(self, context, instance, image_meta, base_image_path, network_info,
                power_on=True):
        self.calls.append(('rebuild', instance['uuid'], image_meta.get('id')))
        entry = self._get(instance)
        before = entry['state']
        entry['state'] = power_state.SHUTDOWN
        try:
            self._maybe_fail('rebuild')
        except Exception:
            entry['state'] = before
            raise
        entry['instance'] = dict(instance, image_ref=image_meta.get('id'))
        entry['console'] += 'fake console of %s rebuilt from %s\n' % (
            instance['uuid'], image_meta.get('id'))
        entry['state'] = power_state.RUNNING if power_on else power_state.SHUTDOWN

    def export_root_disk(self, instance, address, timeout):
        self.calls.append(('export_root_disk', instance['uuid']))
        self._maybe_fail('export_root_disk')
        entry = self._get(instance)
        if not entry['instance'].get('image_ref'):
            return None
        return 'fake://%s/%s' % (address, instance['uuid'])

    def end_export(self, instance):
        self.calls.append(('end_export', instance['uuid']))

    def spawn_migrated(self, context, instance, disk_url, network_info,
                       block_device_info=None, power_on=True, timeout=1800):
        self._maybe_fail('spawn_migrated')
        self.spawn(context, instance, {}, None, network_info, block_device_info)
        entry = self.instances[instance['uuid']]
        entry['disk_from'] = disk_url
        if not power_on:
            entry['state'] = power_state.SHUTDOWN

    def resize(self, context, instance, network_info, power_on=True):
        self.calls.append(('resize', instance['uuid'], instance['flavor'].get('flavorid')))
        entry = self._get(instance)
        before = entry['state']
        entry['state'] = power_state.SHUTDOWN
        try:
            self._maybe_fail('resize')
        except Exception:
            entry['state'] = before if power_on else power_state.SHUTDOWN
            raise
        old_gb = entry.get('root_gb') or entry['instance']['flavor'].get('root_gb') or 0
        entry['root_gb'] = max(old_gb, instance['flavor'].get('root_gb') or 0)
        entry['instance'] = dict(entry['instance'], flavor=dict(instance['flavor']))
        entry['console'] += 'fake console of %s resized to %s vCPUs %s MB\n' % (
            instance['uuid'], instance['flavor']['vcpus'], instance['flavor']['memory_mb'])
        entry['state'] = power_state.RUNNING if power_on else power_state.SHUTDOWN

    def attach_interface(self, context, instance, image_meta, vif):
        self.calls.append(('attach_interface', instance['uuid'], vif.get('id')))
        with self._lock:
            entry = self._get(instance)
            if not any(v['address'] == vif['address'] for v in entry['vifs']):
                entry['vifs'].append(dict(vif))

    def detach_interface(self, context, instance, vif):
        self.calls.append(('detach_interface', instance['uuid'], vif.get('id')))
        with self._lock:
            entry = self._get(instance)
            entry['vifs'] = [v for v in entry['vifs'] if v['address'] != vif['address']]

    def attach_volume(self, context, instance, connection_info, volume_id, device=None):
        self.calls.append(('attach_volume', instance['uuid'], volume_id))
        with self._lock:
            vols = self._get(instance).setdefault('volumes', {})
            if volume_id in vols:
                return vols[volume_id]
            used = set(vols.values()) | {'vda'}
            wanted = (device or '').rsplit('/', 1)[-1]
            if wanted and wanted not in used:
                dev = wanted
            else:
                dev = next(('vd' + c for c in 'bcdefghijklmnopqrstuvwxyz'
                            if 'vd' + c not in used), None)
                if dev is None:
                    raise exception.NoFreeDevice(instance_id=instance['uuid'],
                                                 reason='vdb..vdz are all used')
            vols[volume_id] = dev
            return dev

    def detach_volume(self, context, instance, volume_id):
        self.calls.append(('detach_volume', instance['uuid'], volume_id))
        with self._lock:
            self._get(instance).setdefault('volumes', {}).pop(volume_id, None)

    def list_volume_attachments(self, instance):
        with self._lock:
            vols = self._get(instance).get('volumes') or {}
            return [{'volume_id': v, 'device': d} for v, d in sorted(vols.items())]

    def snapshot(self, context, instance, out_path):
        """Writes a small qcow2 (a valid header, 1 MiB virtual) naming the
        instance, so an upload path can inspect it."""
        self.calls.append(('snapshot', instance['uuid']))
        with self._lock:
            self._get(instance)
            if self.fail_next_snapshot is not None:
                err, self.fail_next_snapshot = self.fail_next_snapshot, None
                raise err
        with open(out_path, 'wb') as f:
            f.write(fake_qcow2(1024 * 1024, instance['uuid'].encode()))

    def abort_snapshot(self, instance):
        self.calls.append(('abort_snapshot', instance['uuid']))

    def get_info(self, instance):
        return {'state': self._get(instance)['state']}

    def get_console_output(self, instance, max_bytes=None):
        text = self._get(instance)['console']
        return text[-max_bytes:] if max_bytes else text

    def get_serial_console(self, instance):
        entry = self._get(instance)
        if entry['state'] != power_state.RUNNING:
            raise exception.ConsoleNotAvailable(instance_id=instance['uuid'])
        return {'host': '127.0.0.1', 'port': entry['port']}

    def get_vnc_console(self, instance):
        """The display's port is the serial one's less 4100 (5900 and up)."""
        entry = self._get(instance)
        if entry['state'] != power_state.RUNNING:
            no = exception.GraphicalConsoleNotAvailable
            raise no(instance_id=instance['uuid'], reason=no.NOT_RUNNING)
        return {'host': '127.0.0.1', 'port': entry['port'] - 4100}


# connect URI -> FakeDriver: where a fake live migration lands
DESTINATIONS = {}


class FakeLiveMigration:
    """The driver's live migration steps, moving the guest's entry from one
    FakeDriver to another; ``driver.fail_next['live_migration']`` makes the
    next move fail with the guest left where it was."""

    def __init__(self, driver):
        self.driver = driver
        self.uri = 'fake://%x' % id(driver)
        self.refuse = None  # what check_destination answers

    def check_destination(self):
        return self.refuse

    def source_info(self, instance):
        self.driver._get(instance)
        return {'xml': '<domain/>', 'disk_size': 1024}

    def prepare(self, instance, image_meta, base_path, network_info, source, volumes=None):
        self.driver.calls.append(('pre_live_migration', instance['uuid']))
        if instance['uuid'] in self.driver.instances:
            raise exception.InstanceExists(instance_id=instance['uuid'])
        DESTINATIONS[self.uri] = self.driver
        return {'xml': source['xml'], 'connect_uri': self.uri, 'migrate_uri': self.uri}

    def rollback(self, context, instance):
        self.driver.calls.append(('rollback_live_migration', instance['uuid']))
        self.driver.destroy(context, instance)

    def migrate(self, instance, dest):
        self.driver.calls.append(('live_migration', instance['uuid']))
        self.driver._maybe_fail('live_migration')
        target = DESTINATIONS[dest['connect_uri']]
        with self.driver._lock:
            entry = self.driver.instances.pop(instance['uuid'])
        with target._lock:
            target.instances[instance['uuid']] = entry
        return {'time_elapsed': 1000, 'downtime': 100}

    def abort_job(self, instance):
        self.driver.calls.append(('abort_live_migration', instance['uuid']))

    def cleanup_source(self, instance):
        self.driver.calls.append(('cleanup_live_migration_source', instance['uuid']))


def fake_qcow2(virtual_size, payload=b''):
    """A minimal qcow2 version 3 header of ``virtual_size`` bytes (no
    backing file), followed by ``payload``: enough for a header reader."""
    header = b'QFI\xfb' + struct.pack('>I', 3) + struct.pack('>QI', 0, 0) + \
        struct.pack('>I', 16) + struct.pack('>Q', virtual_size)
    return header + b'\0' * (512 - len(header)) + payload
