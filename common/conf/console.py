"""[console] options shared by the console proxies."""

from oslo_config import cfg

group = cfg.OptGroup('console', title='Console proxy options')

opts = [
    cfg.ListOpt('allowed_origins', default=[],
                help='Host names (besides the host of the proxy\'s own base URL: [vnc] '
                     'novncproxy_base_url, [serial_console] base_url) whose '
                     'pages may open a console websocket: the proxy refuses a handshake '
                     'whose Origin header names another host, so a page elsewhere cannot '
                     'use a console URL it got hold of. A client that sends no Origin '
                     '(not a browser) is not checked.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
