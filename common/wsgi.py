"""An HTTP server for a WSGI app (waitress), run beside a service's RPC side."""

import threading

import waitress
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class WSGIServer:
    def __init__(self, name, app, host, port, threads=8):
        self.name = name
        self._server = waitress.create_server(
            app, host=host, port=port, threads=threads, ident=name,
            # Clients (keystoneauth) keep connections alive; do not hold
            # idle ones forever.
            channel_timeout=60, clear_untrusted_proxy_headers=True)
        self.host, self.port = host, self._server.effective_port
        self._thread = None

    def start(self):
        LOG.info('%s listening on http://%s:%s', self.name, self.host, self.port)
        self._thread = threading.Thread(target=self._server.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self):
        try:
            self._server.task_dispatcher.shutdown(timeout=5)
        finally:
            self._server.close()
        if self._thread:
            self._thread.join(timeout=5)
