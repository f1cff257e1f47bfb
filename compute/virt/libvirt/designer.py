"""The policy half of the domain XML: what an instance's guest looks like.

Pure: takes the instance dict and decided facts (paths, port, type), returns
a config.GuestConfig. Guest essentials (RECIPES item 2): machine 'pc',
ACPI + APIC (PCI hot-plug needs ACPI), root disk virtio vda, config drive
IDE cdrom hda (so the first volume is vdb), no balloon, serial console on
TCP with a log file; with a ``vnc_listen`` address, a VNC display there
(port chosen by libvirt) on a std VGA adapter.
"""

from compute.virt.libvirt import config

DOMAIN_PREFIX = 'altostack-'


def domain_name(uuid):
    return DOMAIN_PREFIX + uuid


def instance_metadata(instance):
    flavor = instance.get('flavor') or {}
    return config.InstanceMetadata(
        name=instance.get('name'),
        hostname=instance.get('hostname'),
        project_id=instance.get('project_id'),
        user_id=instance.get('user_id'),
        image_id=instance.get('image_ref'),
        created_at=instance.get('created_at'),
        flavor={'name': flavor.get('name'),
                **{k: flavor.get(k) or 0 for k in config.FLAVOR_FIELDS}})


def cpu_for(virt_type):
    """(cpu_mode, cpu_model): TCG emulates qemu64; KVM passes the host model."""
    if virt_type == 'qemu':
        return 'custom', 'qemu64'
    if virt_type == 'kvm':
        return 'host-model', None
    return None, None


# virtio-blk passes at most 20 bytes of serial to the guest
# (VIRTIO_BLK_ID_BYTES); libvirt keeps the whole volume id in the XML and
# the guest sees its first 20 characters in /sys/block/vdX/serial.
GUEST_SERIAL_BYTES = 20
VOLUME_TARGETS = ['vd' + c for c in 'bcdefghijklmnopqrstuvwxyz']


def guest_serial(volume_id):
    """What the guest reads in /sys/block/vdX/serial for ``volume_id``."""
    return volume_id[:GUEST_SERIAL_BYTES]


def next_volume_target(used, wanted=None):
    """The device for a new volume: ``wanted`` ('/dev/vdc' or 'vdc') when
    free, else the first free vdb..vdz. None when nothing fits."""
    used = set(used)
    if wanted:
        dev = wanted.rsplit('/', 1)[-1]
        if dev.startswith('vd') and dev not in used:
            return dev
    for dev in VOLUME_TARGETS:
        if dev not in used:
            return dev
    return None


def volume_disk(connection_info, volume_id, target_dev, disk_cache='none'):
    """The <disk> of a volume for ``connection_info`` (from the volume
    service's initialize_connection): 'file' -> a file disk of its format,
    'nbd' or 'rbd' -> a network disk (rbd: with its cephx <auth>); the serial
    is the volume id."""
    kind = connection_info.get('driver_volume_type')
    data = connection_info.get('data') or {}
    if kind == 'file':
        return config.GuestDisk(data['path'], target_dev, 'virtio',
                                driver_format=data.get('format') or 'raw',
                                driver_cache=disk_cache, serial=volume_id)
    if kind == 'nbd':
        return config.GuestNetworkDisk('nbd', data['name'],
                                       [(data['host'], data.get('port'))], target_dev,
                                       driver_format=data.get('format') or 'raw',
                                       driver_cache='none', serial=volume_id)
    if kind == 'rbd':
        hosts = list(zip(data.get('hosts') or [], data.get('ports') or [], strict=False))
        auth = None
        if data.get('auth_enabled', True) and data.get('auth_username'):
            auth = (data['auth_username'], data.get('secret_type') or 'ceph',
                    data['secret_uuid'])
        return config.GuestNetworkDisk('rbd', data['name'], hosts, target_dev,
                                       driver_format='raw', driver_cache=disk_cache,
                                       serial=volume_id, auth=auth,
                                       discard='unmap' if data.get('discard') else None)
    raise ValueError('unsupported volume connection type %r' % (kind,))


def guest_config(instance, virt_type, disk_path, config_drive_path, console_host,
                 console_port, console_log_path, interface_xmls=(), disk_cache=None,
                 volume_devices=(), vnc_listen=None):
    """``disk_path`` None: the root disk is the first of ``volume_devices``
    (boot from volume, target vda); ``volume_devices`` are config objects
    from volume_disk(); ``vnc_listen`` None: no display."""
    flavor = instance['flavor']
    cpu_mode, cpu_model = cpu_for(virt_type)
    devices = []
    if disk_path:
        devices.append(config.GuestDisk(disk_path, 'vda', 'virtio', driver_format='qcow2',
                                        driver_cache=disk_cache))
    devices.extend(volume_devices)
    if config_drive_path:
        devices.append(config.GuestDisk(config_drive_path, 'hda', 'ide', device='cdrom',
                                        driver_format='raw', readonly=True))
    devices.extend(config.GuestRawDevice(x) for x in interface_xmls if x)
    devices.append(config.GuestSerialTCP(console_host, console_port, console_log_path,
                                         log_append=True))
    if vnc_listen:
        devices.append(config.GuestGraphics(vnc_listen))
        devices.append(config.GuestVideo('vga'))
    devices.append(config.GuestMemballoon('none'))
    return config.GuestConfig(
        virt_type=virt_type,
        name=domain_name(instance['uuid']),
        uuid=instance['uuid'],
        memory_mb=flavor['memory_mb'],
        vcpus=flavor['vcpus'],
        machine='pc',
        features=('acpi', 'apic'),
        cpu_mode=cpu_mode,
        cpu_model=cpu_model,
        boot_dev='hd',
        devices=devices,
        metadata=[instance_metadata(instance)],
    )
