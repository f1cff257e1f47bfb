"""[identity] options: tokens and passwords."""

from oslo_config import cfg

group = cfg.OptGroup('identity', title='Identity (Keystone-compatible) options')

opts = [
    cfg.IntOpt('token_expiration', default=3600, min=60,
               help='Seconds a token is valid after it is issued.'),
    cfg.StrOpt('key_repository', default='$state_path/fernet-keys',
               help='Folder of the keys that sign and encrypt tokens. Every API '
                    'copy must share it.'),
    cfg.IntOpt('max_active_keys', default=3, min=2,
               help='Keys kept when keys are rotated.'),
    cfg.IntOpt('password_hash_rounds', default=100000, min=1000,
               help='PBKDF2-SHA256 rounds for stored passwords (the cost of one '
                    'password check).'),
    cfg.IntOpt('token_cache_time', default=2, min=0,
               help='Seconds one API process may reuse a validated token\'s '
                    'roles and state before it checks the database again. '
                    'Changes made through this process apply at once.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
