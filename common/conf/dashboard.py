"""[dashboard] options: the web dashboard (altostack-dashboard), a client of
the public APIs like any other."""

from oslo_config import cfg

group = cfg.OptGroup('dashboard', title='Web dashboard options')

opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address altostack-dashboard listens on.'),
    cfg.PortOpt('bind_port', default=8000, help='Port altostack-dashboard listens on.'),
    cfg.IntOpt('threads', default=48, min=4,
               help='Request threads. Each open page holds one for its live-update stream, '
                    'so this bounds the browser tabs served at once.'),
    cfg.URIOpt('auth_url', default='http://127.0.0.1:5000/v3', schemes=['http', 'https'],
               help="Keystone's public endpoint; everything else is found in its catalog."),
    cfg.StrOpt('interface', default='public', choices=['public', 'internal', 'admin'],
               help='Which catalog endpoints the dashboard calls.'),
    cfg.StrOpt('region_name', help='Catalog region to use (the first one if unset).'),
    cfg.StrOpt('cafile', help='CA bundle to verify the endpoints with (system CAs if unset).'),
    cfg.BoolOpt('insecure', default=False, help='Do not verify TLS certificates.'),
    cfg.StrOpt('default_domain', default='Default',
               help='Domain filled in on the login form.'),
    cfg.StrOpt('state_path', default='/var/lib/altostack/dashboard',
               help='Folder for the session store and the secret key (mode 0700).'),
    cfg.IntOpt('session_lifetime', default=43200, min=60,
               help='Seconds a session lasts; the token may expire sooner, which sends the '
                    'user back to the login page.'),
    cfg.BoolOpt('secure_cookies', default=False,
                help='Send the session cookie over HTTPS only (set when served behind TLS).'),
    cfg.FloatOpt('poll_interval', default=1.0, min=0.2,
                 help='Seconds between the live-update stream\'s looks at the APIs '
                      '(changes-since queries, so cheap when nothing changed).'),
    cfg.IntOpt('page_size', default=50, min=1, max=1000, help='Rows per list page.'),
    cfg.IntOpt('max_upload_size', default=1099511627776, min=1,
               help='Largest request body (an image upload) the dashboard takes, in bytes; '
                    'the image service has its own limit. A body bigger than 512 KiB waits '
                    'in a temporary file under state_path while it is passed on, never in '
                    'memory.'),
    cfg.IntOpt('api_timeout', default=30, min=1,
               help='Seconds to wait for an API before saying which service is down.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
