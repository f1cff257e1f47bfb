"""[quota] options: default limits of a project (-1 means unlimited)."""

from oslo_config import cfg

group = cfg.OptGroup('quota', title='Quota defaults')

opts = [
    cfg.IntOpt('instances', default=10, min=-1, help='Servers per project.'),
    cfg.IntOpt('cores', default=20, min=-1, help='Server vCPUs per project.'),
    cfg.IntOpt('ram', default=51200, min=-1, help='Server RAM (MiB) per project.'),
    cfg.IntOpt('key_pairs', default=100, min=-1, help='Key pairs per user.'),
    cfg.IntOpt('server_groups', default=10, min=-1, help='Server groups per project.'),
    cfg.IntOpt('server_group_members', default=10, min=-1, help='Servers per server group.'),
    cfg.IntOpt('metadata_items', default=128, min=-1, help='Metadata items per server.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
