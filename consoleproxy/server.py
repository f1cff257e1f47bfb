"""The serial console websocket proxy.

A client opens ``ws://PROXY/?token=TOKEN`` (the URL the compute API gave
it). Before the websocket handshake the token is checked against the
console_auth_tokens table (common.db.console_tokens): an unknown or
expired token gets HTTP 403 and a log line, never a websocket. A good
token names the guest's serial socket (address and port, on loopback of
its compute host); the proxy connects to it and pumps bytes both ways
until either side closes.

Subprotocols: ``binary`` (bytes in binary frames; preferred), ``base64``
(base64 text in text frames, for old noVNC-style clients), or none (as
binary). qemu's serial socket takes one client at a time, so the proxy
holds at most one session per console: a second client is closed with code
1013 and a reason that says the console is in use, after waiting up to
RELEASE_WAIT seconds for a session that is ending (its client gone).

A browser's handshake must come from a page of the proxy's own host (that
of [serial_console] base_url: the dashboard on that host) or of one of
[console] allowed_origins (consoleproxy/origin.py); else HTTP 403.

GET /healthcheck (no upgrade) answers 200, for deployment health checks.
"""

import base64
import contextlib
import http
import socket
import threading
import urllib.parse

from oslo_log import log as logging
from websockets import exceptions as ws_exc
from websockets.frames import CloseCode
from websockets.sync import server as ws_server

from common import exception
from common.db import console_tokens
from consoleproxy import origin

LOG = logging.getLogger(__name__)

SUBPROTOCOLS = ('binary', 'base64')
CHUNK = 65536
IN_USE = CloseCode.TRY_AGAIN_LATER  # 1013
# Seconds a client waits for the session before it to end before it is
# told the console is in use.
RELEASE_WAIT = 2.0


def select_subprotocol(_connection, offered):
    for name in SUBPROTOCOLS:
        if name in offered:
            return name
    return None


class SerialProxy:
    """One listening websocket server; ``serve_forever`` until ``shutdown``."""

    def __init__(self, host, port, connect_timeout=5, validate=console_tokens.validate,
                 base_url='', allowed_origins=()):
        self.connect_timeout = connect_timeout
        self.allowed_hosts = origin.allowed_hosts(base_url, allowed_origins)
        self._validate = validate
        self._busy = {}
        self._busy_lock = threading.Condition()
        self.server = ws_server.serve(
            self._session, host, port, subprotocols=list(SUBPROTOCOLS),
            select_subprotocol=select_subprotocol, process_request=self._check_request,
            compression=None, server_header='altostack-serialproxy',
            # Pings find clients that went away without a close, so a dead
            # session does not hold the console's only slot for long.
            ping_interval=20, ping_timeout=20)

    @property
    def port(self):
        return self.server.socket.getsockname()[1]

    def serve_forever(self):
        self.server.serve_forever()

    def shutdown(self):
        self.server.shutdown()

    # -- handshake --------------------------------------------------------
    def _check_request(self, connection, request):
        url = urllib.parse.urlsplit(request.path)
        if url.path == '/healthcheck' and 'Upgrade' not in request.headers:
            return connection.respond(http.HTTPStatus.OK, 'OK\n')
        peer = _peer(connection)
        why = origin.refusal(request.headers.get('Origin'), self.allowed_hosts)
        if why:
            LOG.warning('Refused a console connection from %s: %s', peer, why)
            return connection.respond(http.HTTPStatus.FORBIDDEN, 'Refused: %s.\n' % why)
        tokens = urllib.parse.parse_qs(url.query).get('token') or ['']
        try:
            target = self._validate(tokens[0])
        except exception.Unauthorized as e:
            LOG.warning('Refused a console connection from %s: %s', peer, e.message)
            return connection.respond(http.HTTPStatus.FORBIDDEN, '%s\n' % e.message)
        except Exception:  # noqa: BLE001 - a bug or the database away: no console, logged
            LOG.exception('Could not check a console token from %s', peer)
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE,
                                      'The console token could not be checked.\n')
        connection.console_target = target
        return None

    # -- session ----------------------------------------------------------
    def _session(self, connection):
        target = connection.console_target
        key = (target['compute_host'], target['host'], target['port'])
        uuid = target['instance_uuid']
        with self._busy_lock:
            # A session whose client has just left may still be winding
            # down (its client saw the close first): a newcomer waits for it
            # a moment rather than being refused.
            self._busy_lock.wait_for(lambda: key not in self._busy, timeout=RELEASE_WAIT)
            holder = self._busy.get(key)
            if holder is None:
                self._busy[key] = _peer(connection)
        if holder is not None:
            LOG.info('Console of %s is in use by %s; refused %s', uuid, holder,
                     _peer(connection))
            connection.close(IN_USE, 'The serial console of server %s is in use by another '
                                     'client.' % uuid)
            return
        try:
            self._pump(connection, target)
        finally:
            with self._busy_lock:
                self._busy.pop(key, None)
                self._busy_lock.notify_all()

    def _pump(self, connection, target):
        uuid = target['instance_uuid']
        try:
            sock = socket.create_connection((target['host'], target['port']),
                                            timeout=self.connect_timeout)
        except OSError as e:
            LOG.warning('Cannot reach the serial console of %s at %s:%s: %s', uuid,
                        target['host'], target['port'], e)
            connection.close(CloseCode.INTERNAL_ERROR,
                             'The serial console of server %s cannot be reached.' % uuid)
            return
        sock.settimeout(None)
        text = connection.subprotocol == 'base64'
        LOG.info('Console session of %s for %s opened (%s)', uuid, _peer(connection),
                 connection.subprotocol or 'no subprotocol')
        reader = threading.Thread(target=self._guest_to_client, args=(sock, connection, text),
                                  name='serial-%s' % uuid[:8], daemon=True)
        reader.start()
        try:
            for message in connection:
                if isinstance(message, str):
                    message = base64.b64decode(message) if text else message.encode('utf-8')
                sock.sendall(message)
        except (ws_exc.ConnectionClosed, OSError, ValueError) as e:
            LOG.debug('Console session of %s: client side ended: %s', uuid, e)
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            reader.join(timeout=5)
            connection.close()
        LOG.info('Console session of %s for %s closed', uuid, _peer(connection))

    @staticmethod
    def _guest_to_client(sock, connection, text):
        try:
            while True:
                data = sock.recv(CHUNK)
                if not data:
                    connection.close(CloseCode.NORMAL_CLOSURE, 'The console closed.')
                    return
                connection.send(base64.b64encode(data).decode('ascii') if text else data)
        except (ws_exc.ConnectionClosed, OSError):
            connection.close()


def _peer(connection):
    try:
        host, port = connection.remote_address[:2]
        return '%s:%s' % (host, port)
    except (OSError, TypeError, ValueError):
        return '?'
