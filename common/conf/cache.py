"""[cache] options: validated tokens shared by every API copy in memcached."""

from oslo_config import cfg

group = cfg.OptGroup('cache', title='Shared token validation cache (memcached)')

opts = [
    cfg.BoolOpt('enabled', default=False,
                help='Keep validated tokens in memcached, shared by every API copy, '
                     'so a token checked by one copy is not checked against the '
                     'database again by another. Any identity change (a revoked '
                     'token, a removed role) invalidates the whole cache at once.'),
    cfg.ListOpt('memcache_servers', default=['127.0.0.1:11211'],
                help='memcached servers as host:port; a key lives on one of them.'),
    cfg.IntOpt('expiration_time', default=30, min=1,
               help='Seconds a validated token stays in memcached.'),
    cfg.FloatOpt('socket_timeout', default=0.5, min=0.01,
                 help='Seconds to wait for memcached to connect or answer; past it, '
                      'the token is checked against the database.'),
    cfg.IntOpt('dead_retry', default=5, min=0,
               help='Seconds a memcached server that failed is left alone before it '
                    'is tried again (validation uses the database meanwhile).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
