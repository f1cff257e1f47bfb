"""[serial_console] options: console URLs, their tokens and the websocket
proxy (altostack-serialproxy) that carries a guest's serial port."""

from oslo_config import cfg

group = cfg.OptGroup('serial_console', title='Serial console options')

opts = [
    cfg.BoolOpt('enabled', default=True,
                help='Offer the serial console (remote console type "serial").'),
    cfg.HostAddressOpt('serialproxy_host', default='127.0.0.1',
                       help='Address altostack-serialproxy listens on (0.0.0.0 to reach it '
                            'from other machines).'),
    cfg.PortOpt('serialproxy_port', default=6083,
                help='Port altostack-serialproxy listens on.'),
    cfg.URIOpt('base_url', default='ws://127.0.0.1:6083/', schemes=['ws', 'wss'],
               help='URL of the proxy as clients reach it; the console URL is this with '
                    '?token=... appended.'),
    cfg.IntOpt('token_ttl', default=600, min=1,
               help='Seconds a console URL (its token) can be used to connect. A session '
                    'that started in time is not cut when the token expires.'),
    cfg.IntOpt('connect_timeout', default=5, min=1,
               help='Seconds the proxy waits to reach the guest serial port.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
