"""[live_migration] options: how a compute agent moves a running guest to
another host's libvirtd (compute/live_migration.py) and how it is reached
when it is the destination."""

from oslo_config import cfg

group = cfg.OptGroup('live_migration', title='Live migration options')

opts = [
    cfg.StrOpt('connect_uri', default='qemu+tcp://%s/system',
               help='Libvirt URI the source host opens to the destination host\'s '
                    'libvirtd (peer to peer); %s is the destination\'s inbound address.'),
    cfg.StrOpt('migrate_uri', default='tcp://%s',
               help='URI the guest\'s memory and disk stream to; %s is the '
                    'destination\'s inbound address.'),
    cfg.HostAddressOpt('inbound_addr',
                       help='Address other hosts reach this host\'s libvirtd and QEMU '
                            'at for incoming live migrations (default: my_ip). The '
                            'libvirtd must listen there (listen_tcp, listen_addr and '
                            'qemu.conf migration_address; devstack/lib/hosts.sh does '
                            'so for hosts 2..N).'),
    cfg.IntOpt('completion_timeout', default=300, min=1,
               help='Seconds a live migration may run before it is aborted (the guest '
                    'then stays on its source host).'),
    cfg.IntOpt('bandwidth', default=0, min=0,
               help='MiB/s the migration stream may use (0: no limit).'),
    cfg.IntOpt('prepare_timeout', default=120, min=1,
               help='Seconds the source waits for the destination to prepare (fetch '
                    'the image, make the disk and config drive, plug the network).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
