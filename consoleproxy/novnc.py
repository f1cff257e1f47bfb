"""The noVNC proxy: the noVNC web client and the websockets to guests' VNC
displays, on one port.

A browser opens the console URL the compute API gave,
``http://PROXY/vnc_lite.html?path=%3Ftoken%3DTOKEN``: the page
(static/vnc_lite.html, ours) loads the vendored noVNC library
(static/novnc/, see its VENDOR.md) and opens a websocket to this proxy at
``path`` (``ws://PROXY/?token=TOKEN``; any path will do, ``/websockify``
too). Before the websocket handshake the proxy checks

* the Origin header, when there is one (browsers always send it): its
  host must be the host of ``[vnc] novncproxy_base_url`` or one of
  ``[console] allowed_origins`` and its scheme http or https, so a page
  elsewhere cannot use a console URL it got hold of;
* the token (common.db.console_tokens, type ``novnc``): unknown, expired,
  for another console type, its server deleted or moved.

A refusal is HTTP 403 and a log line (never the token); no websocket
exists. A good token names the guest's VNC display (an address of its
compute host and a port); the proxy connects to it and websockify's loop
carries the bytes both ways (binary frames) until either side closes. A
VNC display takes several clients at once, so there is no one-session
limit as on the serial proxy.

``GET /healthcheck`` answers 200 for deployment health checks; other GETs
serve the static files (no directory listings).

Built on websockify (PyPI): its request handler is the HTTP server, the
static file server and the websocket end in one; one thread per client.
"""

import contextlib
import http.server
import os
import re
import socket
import socketserver
import urllib.parse

from oslo_log import log as logging
from websockify import websocketproxy

from common import exception
from common.db import console_tokens
from consoleproxy import origin

LOG = logging.getLogger(__name__)

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
CONSOLE_TYPE = 'novnc'
PING_INTERVAL = 20
_TOKEN_RE = re.compile(r'(token(?:%3D|=))[^&\s\'"]+', re.IGNORECASE)


def scrub(text):
    """``text`` (a request line, a path) without the token it may carry."""
    return _TOKEN_RE.sub(r'\1***', text)


class ConsoleRequestHandler(websocketproxy.ProxyRequestHandler):
    """One client connection: a static file, the health check, or a
    checked websocket to a guest's display."""

    server_version = 'altostack-novncproxy'
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map, **{
        '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
        '.css': 'text/css', '.svg': 'image/svg+xml', '.md': 'text/plain; charset=utf-8',
        '.txt': 'text/plain; charset=utf-8'})

    # -- plain HTTP ----------------------------------------------------------
    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == '/healthcheck':
            body = b'OK\n'
            self.send_response(200)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def translate_path(self, path):
        # SimpleHTTPRequestHandler serves self.directory (and keeps '..'
        # out); websockify's __init__ cannot pass it, so it is set here.
        self.directory = self.server.web_root
        return super().translate_path(path)

    def end_headers(self):
        # The page's URL holds a token: no Referer carries it anywhere.
        self.send_header('Referrer-Policy', 'no-referrer')
        self.send_header('X-Content-Type-Options', 'nosniff')
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        LOG.debug('%s %s', self.address_string(), scrub(format % args))

    # -- websocket -----------------------------------------------------------
    def handle_upgrade(self):
        """Check Origin and token before websockify answers the handshake."""
        peer = self._peer()
        why = origin.refusal(self.headers.get('Origin'), self.server.allowed_hosts)
        if why:
            LOG.warning('Refused a VNC console connection from %s: %s', peer, why)
            self.send_error(403, 'Console connection refused: %s' % why)
            return
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        token = (query.get('token') or [''])[0]
        why = None
        try:
            self.console_target = self.server.validate(token, console_type=CONSOLE_TYPE)
        except exception.Unauthorized as e:
            why = e.message
        except Exception:  # noqa: BLE001 - a bug or the database away: no console, logged
            LOG.exception('Could not check a console token from %s', peer)
            self.send_error(503, 'The console token could not be checked.')
            return
        if why:  # logged out of the except: the reason is the whole story
            LOG.warning('Refused a VNC console connection from %s: %s', peer, why)
            self.send_error(403, why)
            return
        super().handle_upgrade()

    def new_websocket_client(self):
        """The handshake is done: connect to the guest's display and pump."""
        target = self.console_target
        uuid = target['instance_uuid']
        try:
            guest = socket.create_connection((target['host'], target['port']),
                                             timeout=self.server.connect_timeout)
        except OSError as e:
            LOG.warning('Cannot reach the VNC console of %s at %s:%s: %s', uuid,
                        target['host'], target['port'], e)
            raise self.CClose(1011, 'The VNC console of server %s cannot be reached.'
                              % uuid) from None
        guest.settimeout(None)
        guest.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = self._peer()
        LOG.info('VNC console session of %s for %s opened', uuid, peer)
        try:
            self.do_proxy(guest)
        finally:
            with contextlib.suppress(OSError):
                guest.shutdown(socket.SHUT_RDWR)
            guest.close()
            LOG.info('VNC console session of %s for %s closed', uuid, peer)

    def _peer(self):
        try:
            return '%s:%s' % self.client_address[:2]
        except (TypeError, ValueError):
            return '?'


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """What websockify's handler expects of its server (the settings of
    websockify's own servers), one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    # websockify.websockifyserver.WebSockifyRequestHandler reads these.
    only_upgrade = False
    file_only = True          # no directory listings
    verbose = False
    daemon = False
    record = ''
    run_once = False
    traffic = False
    web_auth = False
    host_token = False
    handler_id = 0
    # websockify.websocketproxy.ProxyRequestHandler reads these.
    token_plugin = None
    auth_plugin = None
    unix_listen = None
    unix_target = None
    wrap_cmd = None
    ssl_target = None
    target_host = None
    target_port = None
    heartbeat = PING_INTERVAL

    def __init__(self, address, handler, **settings):
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        for name, value in settings.items():
            setattr(self, name, value)
        self.logger = LOG
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        LOG.debug('A console connection from %s ended with an error', client_address,
                  exc_info=True)


class NoVNCProxy:
    """One listening server; ``serve_forever`` until ``shutdown``."""

    def __init__(self, host, port, base_url, allowed_origins=(), connect_timeout=5,
                 validate=console_tokens.validate, web_root=STATIC_DIR):
        self.server = _Server((host, port), ConsoleRequestHandler,
                              allowed_hosts=origin.allowed_hosts(base_url, allowed_origins),
                              validate=validate, connect_timeout=connect_timeout,
                              web_root=web_root)

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def allowed_hosts(self):
        return self.server.allowed_hosts

    def serve_forever(self):
        self.server.serve_forever(poll_interval=0.5)

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()
