"""The policy half of the domain XML: what an instance's guest looks like.

Pure: takes the instance dict and decided facts (paths, port, type), returns
a config.GuestConfig. Guest essentials (RECIPES item 2): machine 'pc',
ACPI + APIC (PCI hot-plug needs ACPI), root disk virtio vda, config drive
IDE cdrom hda (so the first volume is vdb), no balloon, serial console on
TCP with a log file.
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


def guest_config(instance, virt_type, disk_path, config_drive_path, console_host,
                 console_port, console_log_path, interface_xmls=(), disk_cache=None):
    flavor = instance['flavor']
    cpu_mode, cpu_model = cpu_for(virt_type)
    devices = [
        config.GuestDisk(disk_path, 'vda', 'virtio', driver_format='qcow2',
                         driver_cache=disk_cache),
    ]
    if config_drive_path:
        devices.append(config.GuestDisk(config_drive_path, 'hda', 'ide', device='cdrom',
                                        driver_format='raw', readonly=True))
    devices.extend(config.GuestRawDevice(x) for x in interface_xmls if x)
    devices.append(config.GuestSerialTCP(console_host, console_port, console_log_path,
                                         log_append=True))
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
