"""[volume] options: the Cinder-compatible block storage (the volume API's
quotas and default type; the volume service's backend, its state folder and
the NBD exports it serves)."""

from oslo_config import cfg

group = cfg.OptGroup('volume', title='Volumes, snapshots and their exports')

opts = [
    cfg.IntOpt('quota_volumes', default=10, min=-1, help='Volumes per project.'),
    cfg.IntOpt('quota_gigabytes', default=1000, min=-1,
               help='GiB of volumes and snapshots per project.'),
    cfg.IntOpt('quota_snapshots', default=10, min=-1, help='Snapshots per project.'),
    cfg.IntOpt('per_volume_gigabytes', default=-1, min=-1,
               help='Largest size (GiB) of one volume; -1 means no limit.'),
    cfg.StrOpt('default_volume_type', default='__DEFAULT__',
               help='Volume type of a volume created without one (bootstrap makes it).'),
    cfg.StrOpt('backend', default='file',
               help='Storage backend of the volume service (blockstore.backends): '
                    'file (qcow2 or raw files, NBD exports) or rbd (Ceph RBD images).'),
    cfg.StrOpt('rbd_pool', default='volumes',
               help='rbd backend: the Ceph pool that holds the volumes.'),
    cfg.StrOpt('rbd_user', default='cinder',
               help='rbd backend: the cephx user (without "client.") the volume service '
                    'acts as; it needs profile rbd on rbd_pool and read on the images '
                    'pool to clone images.'),
    cfg.StrOpt('rbd_ceph_conf', default='/etc/ceph/ceph.conf',
               help='rbd backend: the ceph.conf of the cluster.'),
    cfg.StrOpt('rbd_keyring_conf',
               help='rbd backend: keyring of rbd_user (unset: the one ceph.conf names).'),
    cfg.StrOpt('rbd_secret_uuid',
               help='rbd backend: UUID of the libvirt secret compute hosts hold the cephx '
                    'key in, put in the connection info (a compute host\'s own [libvirt] '
                    'rbd_secret_uuid wins).'),
    cfg.StrOpt('volume_format', default='qcow2', choices=('qcow2', 'raw'),
               help='Format of the file backend\'s volume files: thin qcow2, or raw '
                    '(sparse files).'),
    cfg.BoolOpt('local_attach', default=False,
                help='File backend: give every compute host a file connection (the '
                     'volume\'s path) instead of an NBD export, for hosts that share '
                     'volumes_dir with the volume service.'),
    cfg.IntOpt('command_timeout', default=600, min=1,
               help='Seconds the volume service lets one host command (qemu-img, '
                    'qemu-storage-daemon start-up) run before it is killed.'),
    cfg.StrOpt('volumes_dir', default='$state_path/volumes',
               help='Folder where the volume service keeps volumes, snapshots, '
                    'downloaded images and its export state.'),
    cfg.HostAddressOpt('nbd_bind_host', default='127.0.0.1',
                       help='Address the NBD exports of volumes listen on, and that compute '
                            'hosts other than this one connect to (a wildcard such as '
                            '0.0.0.0: they connect to my_ip). Hosts in other machines or '
                            'network namespaces need an address they reach (stack.sh and '
                            'the functional tests set the hosts bridge\'s when there are '
                            'several hosts).'),
    cfg.PortOpt('nbd_port_min', default=10809, help='First TCP port of the NBD exports.'),
    cfg.PortOpt('nbd_port_max', default=10909, help='Last TCP port of the NBD exports.'),
    cfg.PortOpt('nbd_port', help='TCP port of the NBD server of the file backend '
                                 '(unset: nbd_port_min).'),
    cfg.IntOpt('rpc_timeout', default=60, min=1,
               help='Seconds the API waits for the volume service to answer a call '
                    '(initialize_connection, terminate_connection).'),
    cfg.IntOpt('stuck_timeout', default=600, min=10,
               help='Seconds a volume or snapshot may stay creating, deleting or '
                    'extending before the volume service calls it failed.'),
    cfg.IntOpt('message_ttl', default=2592000, min=1,
               help='Seconds a user message (why a volume operation failed: GET '
                    '/messages) is kept.'),
    cfg.IntOpt('reconcile_interval', default=60, min=1,
               help='Seconds between the volume service\'s checks for stuck volumes.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
