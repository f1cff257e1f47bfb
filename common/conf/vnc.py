"""[vnc] options: the guests' VNC displays (on the compute hosts), the noVNC
console URLs and their tokens, and the noVNC proxy (altostack-novncproxy)
that carries a browser's websocket to a guest's display."""

from oslo_config import cfg

group = cfg.OptGroup('vnc', title='VNC console options')

opts = [
    cfg.BoolOpt('enabled', default=True,
                help='Give new guests a VNC display and offer the remote console type '
                     '"novnc". Read by the compute agents (a guest defined while it is '
                     'false has no display) and by the API.'),
    cfg.HostAddressOpt('server_listen', default='127.0.0.1',
                       help='Address the guests\' VNC displays listen on (on the compute '
                            'host): only the noVNC proxy should reach it. Loopback when '
                            'the proxy runs on the same host; an address of a network '
                            'only the proxy reaches otherwise.'),
    cfg.HostAddressOpt('server_proxyclient_address', default='127.0.0.1',
                       help='Address of this compute host that altostack-novncproxy '
                            'connects to for its guests\' displays (usually the same as '
                            'server_listen).'),
    cfg.URIOpt('novncproxy_base_url', default='http://127.0.0.1:6080/vnc_lite.html',
               schemes=['http', 'https'],
               help='URL of the noVNC console page as browsers reach it; the console URL '
                    'is this with ?path=%3Ftoken%3D... appended (the page opens its '
                    'websocket to that path on the same host and port).'),
    cfg.HostAddressOpt('novncproxy_host', default='0.0.0.0',
                       help='Address altostack-novncproxy listens on.'),
    cfg.PortOpt('novncproxy_port', default=6080,
                help='Port altostack-novncproxy listens on.'),
    cfg.IntOpt('token_ttl', default=600, min=1,
               help='Seconds a noVNC console URL (its token) can be used to connect. A '
                    'session that started in time is not cut when the token expires.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
