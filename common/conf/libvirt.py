"""[libvirt] options: what the compute agent's libvirt driver needs to give
its guests Ceph RBD volumes (Nova's [libvirt] rbd_user and rbd_secret_uuid)."""

from oslo_config import cfg

group = cfg.OptGroup('libvirt', title='Libvirt driver: Ceph RBD volumes')

opts = [
    cfg.StrOpt('rbd_user',
               help='The cephx user (without "client.") this host\'s guests open RBD '
                    'volumes as; overrides the connection info\'s auth_username. Give '
                    'each compute host its own, limited to the volumes pool (and images '
                    'read-only).'),
    cfg.StrOpt('rbd_secret_uuid',
               help='UUID of the libvirt secret (usage type ceph) that holds rbd_user\'s '
                    'key; overrides the connection info\'s secret_uuid.'),
    cfg.StrOpt('rbd_keyring',
               help='Keyring file holding rbd_user\'s key: the agent defines (or updates) '
                    'the libvirt secret rbd_secret_uuid from it before a guest uses an RBD '
                    'volume. Unset: the secret must already exist.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
