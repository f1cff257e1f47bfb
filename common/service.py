"""The service runner: an RPC server on a topic and host, heartbeats,
periodic tasks and a clean stop on SIGTERM or SIGINT.

    Service(binary='altostack-volume', topic='volume', manager=mgr).run()

``http_servers`` are common.wsgi servers started and stopped with it
(the API and image services). A manager is a plain object with an oslo.messaging ``target`` and RPC
methods; optional hooks ``init_host()`` (before serving) and
``cleanup_host()`` (after). Periodic tasks are methods marked with
``common.periodic.periodic``.
"""

import os
import signal
import threading
import time

from oslo_log import log as logging

from common import context as ctx_mod
from common import periodic
from common import rpc
from common.conf import CONF

LOG = logging.getLogger(__name__)


def lead_process_group():
    """Make this service process the leader of a process group of its own
    (its forked workers then belong to it), unless it leads one already or
    is in the foreground of a terminal (where ^C must still reach it).

    oslo.messaging's queue manager (``use_queue_manager``) tells one run of
    a service from the next by its process group: each time it names a
    queue it reads the start time of the group's leader from
    ``/proc/<group id>/stat``. A service started without job control (a
    shell script, ``nohup ... &``, a test runner, a supervisor that does
    not make a session) is in its starter's group; once the starter exits
    that file is gone and the service's first RPC call fails with
    FileNotFoundError. As its own leader the service's identity lives
    exactly as long as the service. Returns True when the group changed.
    """
    pid = os.getpid()
    group = os.getpgrp()
    if group == pid or _terminal_foreground(group):
        return False
    try:
        os.setpgid(0, 0)
    except OSError as e:  # a session leader cannot (it leads its group already)
        LOG.warning('Could not lead a process group of our own: %s', e)
        return False
    LOG.debug('Process %d now leads its own process group (was %d)', pid, group)
    return True


def _terminal_foreground(group):
    try:
        fd = os.open('/dev/tty', os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal
    try:
        return os.tcgetpgrp(fd) == group
    except OSError:
        return False
    finally:
        os.close(fd)


def db_reporter(host, binary, topic):
    # Imported here, not with this module: a compute agent (it reports over
    # RPC) must not load the database code.
    from common import servicegroup
    servicegroup.report(host, binary, topic)


# Seconds the periodic threads of a stopping service get, all of them together.
STOP_GRACE = 5


class Service:
    def __init__(self, binary, topic, manager, host=None, reporter=db_reporter,
                 rpc_topics=None, http_servers=()):
        self.binary = binary
        self.topic = topic
        self.host = host or CONF.host
        self.manager = manager
        self.reporter = reporter
        self.rpc_topics = rpc_topics if rpc_topics is not None else [topic]
        self._servers = []
        self.http_servers = list(http_servers)
        self._stop = threading.Event()
        self._threads = []

    # -- heartbeats and periodic tasks ------------------------------------
    def report_state(self):
        try:
            self.reporter(self.host, self.binary, self.topic)
        except Exception:  # noqa: BLE001 - a missed heartbeat is not fatal
            LOG.warning('Heartbeat of %s on %s failed; will retry', self.binary,
                        self.host, exc_info=True)

    def _loop(self, name, fn, spacing, run_immediately):
        if not run_immediately and self._stop.wait(spacing):
            return
        while not self._stop.is_set():
            ctx_mod.get_admin_context(overwrite=True)
            try:
                fn()
            except Exception:  # noqa: BLE001 - keep the loop alive, log the bug
                LOG.exception('Periodic task %s failed', name)
            if self._stop.wait(spacing):
                return

    def _start_thread(self, name, target, *args):
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # -- life cycle -------------------------------------------------------
    def start(self):
        LOG.info('Starting %s on host %s (topics %s)', self.binary, self.host,
                 ', '.join(self.rpc_topics) or 'none')
        init_host = getattr(self.manager, 'init_host', None)
        if init_host:
            init_host()
        for topic in self.rpc_topics:
            server = rpc.get_server(topic, self.host, [self.manager])
            server.start()
            self._servers.append(server)
        for http in self.http_servers:
            http.start()
        self._start_thread('heartbeat', self._loop, 'heartbeat', self.report_state,
                           float(CONF.report_interval), True)
        for name, fn, spacing, immediate in periodic.collect(self.manager):
            self._start_thread(name, self._loop, name, fn, spacing, immediate)

    def stop(self):
        self._stop.set()
        for http in self.http_servers:
            http.stop()
        for server in self._servers:
            try:
                server.stop()
                server.wait()
            except Exception:  # noqa: BLE001
                LOG.warning('RPC server did not stop cleanly', exc_info=True)
        cleanup = getattr(self.manager, 'cleanup_host', None)
        if cleanup:
            cleanup()
        # The periodic threads (daemons) get STOP_GRACE between them, not each: one
        # in the middle of a call to a service that has gone would otherwise
        # hold the stop for its whole timeout, and the next one too.
        deadline = time.monotonic() + STOP_GRACE
        for t in self._threads:
            t.join(timeout=max(0, deadline - time.monotonic()))
        rpc.cleanup()
        LOG.info('%s on %s stopped', self.binary, self.host)

    def wait_for_signal(self):
        got = threading.Event()

        def _handler(signum, _frame):
            LOG.info('Signal %d received, stopping', signum)
            got.set()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)
        while not got.wait(1.0):
            pass

    def run(self):
        """The whole life of a service process."""
        lead_process_group()
        self.start()
        try:
            self.wait_for_signal()
        finally:
            self.stop()
