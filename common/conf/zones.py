"""[DEFAULT] availability zone options."""

from oslo_config import cfg

opts = [
    cfg.StrOpt('default_availability_zone', default='nova',
               help='Zone of compute hosts that no aggregate puts in another one.'),
    cfg.StrOpt('default_schedule_zone', default=None,
               help='Zone a server lands in when its request names none '
                    '(None: any zone).'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
