"""HTTP serving for a WSGI app (waitress), beside a service's RPC side.

``WSGIServer`` runs in the service process itself. With ``workers`` > 1 it
binds the socket, forks that many worker processes that share it, and
watches them: a worker that dies is replaced. Workers build their own
database and bus connections after the fork.
"""

import ctypes
import ctypes.util
import os
import signal
import socket
import threading
import time

import waitress
from oslo_log import log as logging

LOG = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _bind(host, port):
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def _die_with_parent(parent):
    """A worker ends when its parent does, however the parent died (a
    ``kill -9`` included): otherwise orphaned workers keep serving on the
    shared socket while the service is thought dead (HAProxy and its
    health checks would still find them)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's stop() still ends us
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


class WSGIServer:
    def __init__(self, name, app_factory, host, port, threads=8, workers=1,
                 server_options=None, channel_class=None):
        """``app_factory`` makes the app; it is called in each worker.
        ``server_options`` are extra waitress settings; ``channel_class`` a
        waitress HTTPChannel of the caller's own (common/spool.py)."""
        self.name = name
        self.channel_class = channel_class
        self.app_factory = app_factory
        self.threads = threads
        self.workers = max(1, workers)
        self.server_options = dict({'channel_timeout': 60,
                                    'clear_untrusted_proxy_headers': True},
                                   **(server_options or {}))
        self.sock = _bind(host, port)
        self.host, self.port = host, self.sock.getsockname()[1]
        self._server = None
        self._thread = None
        self._children = {}
        self._stopping = False

    def _make_server(self):
        server = waitress.create_server(
            self.app_factory(), sockets=[self.sock], threads=self.threads, ident=self.name,
            **self.server_options)
        if self.channel_class is not None:
            server.channel_class = self.channel_class  # one socket: one TcpWSGIServer
        return server

    # -- one process --------------------------------------------------------
    def _serve_here(self):
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.run, name=self.name,
                                        daemon=True)
        self._thread.start()

    # -- forked workers -----------------------------------------------------
    def _spawn(self):
        parent = os.getpid()
        pid = os.fork()
        if pid:
            self._children[pid] = time.monotonic()
            return
        # In the worker: fresh connections, default signals, serve forever.
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _die_with_parent(parent)
            from common.db import api as db_api
            db_api.dispose()
            self._make_server().run()
        except BaseException:  # noqa: BLE001 - a worker must never return
            LOG.exception('%s worker %d failed', self.name, os.getpid())
            code = 1
        finally:
            os._exit(code)

    def _watch(self):
        while not self._stopping:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.5)
                continue
            started = self._children.pop(pid, None)
            if started is None or self._stopping:
                continue
            LOG.error('%s worker %d exited (status %d); starting another', self.name, pid,
                      status)
            if time.monotonic() - started < 1:
                time.sleep(1)  # do not spin on a worker that dies at start
            self._spawn()

    def start(self):
        LOG.info('%s listening on http://%s:%s (%d worker%s, %d threads each)', self.name,
                 self.host, self.port, self.workers, 's' if self.workers > 1 else '',
                 self.threads)
        if self.workers == 1:
            self._serve_here()
            return
        for _ in range(self.workers):
            self._spawn()
        self._thread = threading.Thread(target=self._watch, name=self.name + '-watch',
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping = True
        if self._server is not None:
            try:
                self._server.task_dispatcher.shutdown(timeout=5)
            finally:
                self._server.close()
        for pid in list(self._children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self._children.pop(pid, None)
        deadline = time.monotonic() + 10
        while self._children and time.monotonic() < deadline:
            time.sleep(0.05)
            for pid in list(self._children):
                try:
                    done, _status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self._children.pop(pid, None)
        for pid in list(self._children):
            os.kill(pid, signal.SIGKILL)
        self.sock.close()
