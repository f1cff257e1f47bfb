"""The console proxies' processes: altostack-serialproxy (main) and
altostack-novncproxy (novnc_main) each serve their websockets until
SIGTERM, purging expired console tokens meanwhile."""

import signal
import sys
import threading
import warnings

from oslo_log import log as logging

from common import config
from common.conf import CONF
from common.db import console_tokens

LOG = logging.getLogger(__name__)
PURGE_INTERVAL = 60


def _purge_loop(stop):
    while not stop.wait(PURGE_INTERVAL):
        try:
            gone = console_tokens.purge_expired()
        except Exception:  # noqa: BLE001 - the next round tries again
            LOG.warning('Could not purge expired console tokens', exc_info=True)
            continue
        if gone:
            LOG.debug('Purged %d expired console tokens', gone)


def _serve(name, proxy):
    """Run ``proxy`` (serve_forever/shutdown) until SIGTERM or SIGINT."""
    stop = threading.Event()

    def _handler(signum, _frame):
        LOG.info('Signal %d received, stopping', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    serving = threading.Thread(target=proxy.serve_forever, name=name)
    serving.start()
    threading.Thread(target=_purge_loop, args=(stop,), name='token-purge',
                     daemon=True).start()
    while not stop.wait(1.0):
        if not serving.is_alive():
            LOG.error('The proxy server stopped on its own')
            return 1
    proxy.shutdown()
    serving.join(timeout=15)
    return 0


def main(argv=None):
    """altostack-serialproxy."""
    from consoleproxy import server  # here: neither proxy loads the other's libraries

    config.parse_args(sys.argv[1:] if argv is None else argv)
    opts = CONF.serial_console
    proxy = server.SerialProxy(opts.serialproxy_host, opts.serialproxy_port,
                               connect_timeout=opts.connect_timeout, base_url=opts.base_url,
                               allowed_origins=CONF.console.allowed_origins)
    LOG.info('altostack-serialproxy listening on %s:%d (clients are given %s)',
             opts.serialproxy_host, proxy.port, opts.base_url)
    return _serve('serialproxy', proxy)


def novnc_main(argv=None):
    """altostack-novncproxy."""
    # websockify unmasks client frames with numpy when it can; here they are
    # a viewer's keys and pointer moves (bytes), and numpy would cost this
    # process about 13 MiB. Nothing else in it uses numpy.
    sys.modules.setdefault('numpy', None)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message=".*numpy.*", category=UserWarning)
        from consoleproxy import novnc

    config.parse_args(sys.argv[1:] if argv is None else argv)
    opts = CONF.vnc
    proxy = novnc.NoVNCProxy(opts.novncproxy_host, opts.novncproxy_port,
                             opts.novncproxy_base_url, CONF.console.allowed_origins)
    LOG.info('altostack-novncproxy listening on %s:%d (clients are given %s; websockets '
             'from pages of %s)', opts.novncproxy_host, proxy.port,
             opts.novncproxy_base_url, ', '.join(sorted(proxy.allowed_hosts)))
    return _serve('novncproxy', proxy)


if __name__ == '__main__':
    sys.exit(main())
