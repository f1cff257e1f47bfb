"""[compute] options: the compute agent's hypervisor layer (libvirt/QEMU)."""

from oslo_config import cfg

group = cfg.OptGroup('compute', title='Compute agent and hypervisor options')

opts = [
    cfg.StrOpt('compute_driver', default='libvirt', choices=['libvirt', 'fake'],
               help='Hypervisor driver. "fake" keeps guests in memory (tests only).'),
    cfg.StrOpt('virt_type', default='qemu', choices=['qemu', 'kvm'],
               help='Libvirt domain type: "qemu" (TCG, works everywhere) or "kvm" '
                    '(needs /dev/kvm).'),
    cfg.StrOpt('libvirt_uri', default='qemu:///system',
               help='Libvirt connection URI of the local hypervisor.'),
    cfg.StrOpt('vif_driver', default='bridge', choices=['noop', 'bridge'],
               help='How guest NICs are plugged: "bridge" attaches a virtio NIC per '
                    'port to its network\'s bridge, which the agent\'s data plane '
                    'makes; "noop" gives guests no NIC (tests of the driver alone).'),
    cfg.StrOpt('instances_path', default='$state_path/instances',
               help='Folder holding one sub-folder per instance (disk, disk.config, '
                    'console.log) and the image cache.'),
    cfg.StrOpt('image_cache_subdir', default='_base',
               help='Sub-folder of instances_path where base images are cached.'),
    cfg.BoolOpt('remove_unused_base_images', default=True,
                help='Remove cached base images that no instance on this host uses.'),
    cfg.IntOpt('remove_unused_original_minimum_age_seconds', default=3600, min=0,
               help='An unused base image is kept at least this many seconds after '
                    'it was last used or fetched.'),
    cfg.IntOpt('image_download_timeout', default=60, min=1,
               help='Seconds a base image download may stall before it fails.'),
    cfg.HostAddressOpt('console_host', default='127.0.0.1',
                       help='Address the guests\' serial consoles (raw TCP) listen on, '
                            'and that altostack-serialproxy connects to (Nova\'s '
                            '[serial_console] proxyclient_address): an address of this '
                            'host the proxy reaches.'),
    cfg.PortOpt('console_port_min', default=10000,
                help='Lowest TCP port for guest serial consoles.'),
    cfg.PortOpt('console_port_max', default=10999,
                help='Highest TCP port for guest serial consoles.'),
    cfg.IntOpt('reserved_host_memory_mb', default=512, min=0,
               help='Memory kept for the host, not given to guests.'),
    cfg.IntOpt('reserved_host_disk_mb', default=0, min=0,
               help='Disk space kept for the host, not given to guests.'),
    cfg.IntOpt('reserved_host_cpus', default=0, min=0,
               help='Host CPUs kept for the host, not given to guests.'),
    cfg.IntOpt('shutdown_timeout', default=60, min=0,
               help='Seconds a graceful power off (ACPI) or soft reboot waits for the '
                    'guest before it is forced off.'),
    cfg.IntOpt('sync_power_state_interval', default=10, min=1,
               help='Seconds between the agent\'s power syncs: each asks the conductor '
                    'for the host\'s servers and tells it what the hypervisor says of '
                    'the resting ones (a guest that stopped or crashed on its own). '
                    'One call per host per interval: with thousands of hosts, a few '
                    'minutes (Nova\'s default is 600).'),
    cfg.StrOpt('config_drive_format', default='iso9660', choices=['iso9660'],
               help='File system of the config drive.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
