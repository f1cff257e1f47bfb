"""[DEFAULT] options every service shares: who we are, where state lives, heartbeats."""

import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host', default=socket.gethostname(), sample_default='<hostname>',
               help='Name of this host as the bus and the service list know it.'),
    cfg.StrOpt('state_path', default='/var/lib/altostack',
               help='Folder for databases, keys, images and other state.'),
    cfg.StrOpt('my_ip', default='127.0.0.1',
               help='Address other services use to reach this host.'),
    cfg.IntOpt('report_interval', default=5, min=1,
               help='Seconds between heartbeats a service sends.'),
    cfg.IntOpt('service_down_time', default=20, min=2,
               help='A service whose last heartbeat is older than this many '
                    'seconds is shown as down.'),
    cfg.IntOpt('rpc_call_timeout', default=60, min=1,
               help='Seconds an RPC call waits for its answer before it fails.'),
    cfg.BoolOpt('allow_resize_to_same_host', default=True,
                help='A resize may stay on the server\'s own host (the guest is '
                     'redefined in place) or go to another one (its disk is copied '
                     'there, as a cold migration does). False: always another host.'),
    cfg.IntOpt('migration_copy_timeout', default=1800, min=10,
               help='Seconds a cold migration or resize to another host may take to '
                    'copy the root disk and start the guest there before the source '
                    'gives up and starts it again.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
