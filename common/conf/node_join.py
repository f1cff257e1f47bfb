"""[node_join] options: `altostack-manage node add` tokens for
`altostack-node join`."""

from oslo_config import cfg

group = cfg.OptGroup('node_join', title='Compute node join tokens')

opts = [
    cfg.ListOpt('controller_addresses', default=['$my_ip'],
                help='Addresses at which new compute nodes reach the controllers\' message '
                     'broker (every controller of a cluster, in order of preference); put '
                     'in each join token.'),
    cfg.PortOpt('bus_port', default=5672,
                help='Port of the message broker at those addresses.'),
    cfg.IntOpt('token_ttl', default=3600, min=60,
               help='Seconds a join token stays valid (it is good for one join).'),
    cfg.StrOpt('rabbitmqctl', default='rabbitmqctl',
               help='rabbitmqctl command that makes and deletes the nodes\' broker users '
                    '(run on a controller; words, e.g. "rabbitmqctl -n rabbit@ctl1").'),
    cfg.ListOpt('agent_options',
                default=['DEFAULT.report_interval', 'DEFAULT.service_down_time',
                         'DEFAULT.rpc_call_timeout', 'compute.virt_type',
                         'compute.shutdown_timeout', 'network.network_mtu',
                         'network.vxlan_port'],
                help='GROUP.OPTION settings of this controller that every compute agent must '
                     'share; their values travel in the join token into the node\'s '
                     'altostack.conf.'),
    cfg.StrOpt('cloud_file', default='/etc/altostack/cloud.json',
               help='The cloud\'s settings and shared secrets (database and broker logins, '
                    'Erlang cookie, load balancer), written by "altostack-node init" and '
                    'by each controller that joins; the conductor hands them, with the '
                    'token keys, image URL key and Ceph client files, to a controller '
                    'whose join token it accepted. Mode 0600.'),
    cfg.StrOpt('front_dir',
               help='Set on the load balancer\'s machine only: the folder of its HAProxy '
                    'fronts (api/, image/, galera/); its conductor adds each controller '
                    'that joins to them.'),
    cfg.StrOpt('front_address',
               help='With front_dir: the address the fronts listen on.'),
    cfg.StrOpt('src_dir',
               help='The Altostack source whose devstack/lib/ functions write the fronts '
                    '(default: the one this code runs from).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
