"""[security_compliance] options: Keystone's account lockout."""

from oslo_config import cfg

group = cfg.OptGroup('security_compliance',
                     title='Security compliance (Keystone-compatible) options')

opts = [
    cfg.IntOpt('lockout_failure_attempts', min=1,
               help='Failed password authentications in a row after which a user is '
                    'locked out for lockout_duration seconds. Unset (the default), '
                    'no user is ever locked out. Users with the '
                    'ignore_lockout_failure_attempts option are never locked out.'),
    cfg.IntOpt('lockout_duration', default=1800, min=1,
               help='Seconds a user stays locked out after lockout_failure_attempts '
                    'failed password authentications; no effect unless '
                    'lockout_failure_attempts is set.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
