"""altostack-dashboard: serve the web dashboard until SIGTERM.

One process with many threads (each open page holds one for its live
stream). It keeps no service record: it is healthy when /healthcheck
answers, like the console proxies."""

import os
import signal
import sys
import tempfile
import threading

from oslo_log import log as logging

from common import config
from common import wsgi
from common.conf import CONF

LOG = logging.getLogger(__name__)
BINARY = 'altostack-dashboard'
# channel_request_lookahead: waitress keeps reading a connection while its
# request runs, so it sees at once that a browser left a page and the page's
# live-update stream (views/events.py) stops; without it the stream would
# hold its thread and poll the APIs until a write failed, up to two
# heartbeats later, and quick clicking through pages used up the threads.
SERVER_OPTIONS = {'channel_timeout': 120, 'channel_request_lookahead': 1}


def _app():
    from dashboard import app
    return app.create_app()


def _spool_uploads(state_path):
    """waitress receives a whole request body before the app reads it,
    spooling a big one (an image upload) to a temporary file: keep those
    under state_path, not in a small /tmp."""
    folder = os.path.join(state_path, 'uploads')
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tempfile.tempdir = folder


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    opts = CONF.dashboard
    _spool_uploads(opts.state_path)
    # waitress refuses bodies over 1 GiB by default; images are often bigger.
    server = wsgi.WSGIServer(BINARY, _app, opts.bind_host, opts.bind_port,
                             threads=opts.threads, workers=1,
                             server_options=dict(
                                 SERVER_OPTIONS, max_request_body_size=opts.max_upload_size))
    stop = threading.Event()

    def _handler(signum, _frame):
        LOG.info('Signal %d received, stopping', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    server.start()
    LOG.info('%s serving on http://%s:%d (Keystone at %s)', BINARY, opts.bind_host,
             server.port, opts.auth_url)
    stop.wait()
    server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
