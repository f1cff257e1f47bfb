"""[api] options: the public REST front door."""

from oslo_config import cfg

group = cfg.OptGroup('api', title='API service options')

opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0', help='Address the API listens on.'),
    cfg.PortOpt('bind_port', default=8080, help='Port the API listens on.'),
    cfg.StrOpt('public_host', default='$my_ip',
               help='Host name or address put in the catalog and version documents.'),
    cfg.PortOpt('public_port',
                help='Port put in the catalog, when clients reach the API through a '
                     'load balancer in front of several API copies (devstack/lib/'
                     'api_front.sh); unset, bind_port.'),
    cfg.IntOpt('workers', default=0, min=0,
               help='API worker processes sharing the port; 0 means two per CPU (the '
                    'workers also compete with other processes for the CPUs).'),
    cfg.IntOpt('threads', default=4, min=1,
               help='Request threads in each API worker process.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
