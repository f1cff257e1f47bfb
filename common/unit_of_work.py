"""Units of work, re-run whole when the database loses a transaction.

A unit is what one request asks of a service: an API request, an RPC
endpoint call. When a transaction in it fails with a deadlock (a Galera
certification failure is one) or a lost connection (the writer died), the
transaction is gone and the code that built it cannot be resumed in the
middle; the only safe retry is to run the whole unit again, and only while
running it again cannot do anything twice. So a unit notes what it has done
that cannot be undone: a committed transaction that wrote, a message sent
on the bus. While it has done neither, a retryable database error re-runs
it after a bounded exponential backoff ([database] db_retry_interval,
db_max_retry_interval, db_max_retries), as oslo.db's wrap_db_retry does;
after either, the error goes to the caller as it is (a 503 with its reason
at the API).

A part of a unit written so that running it again does each of its writes
once (it finds and gives back, or keeps, what an earlier try of it
committed) runs with ``run_part``: it is run again after a committed write
too, only not after it sent a message. The build flow in the scheduler is
one (claim, place, bind ports, then cast the build): a claim that committed
just before the writer died is given back by the next try, not leaked, and
the build is placed rather than set to ERROR. ``rerun()`` tells such code
(and a unit's) whether this is a try after a lost transaction, whose
writes may have committed although the client saw the connection die.
What is harmless to do twice (an RPC call that only reads, a row made only
when missing) runs inside ``repeatable()`` and is not noted at all.

This module imports nothing of the database: the compute agent's RPC
server passes through it too, and never sees such an error.
"""

import contextlib
import functools
import inspect
import random
import threading
import time

from oslo_log import log as logging

from common import exception
from common.conf import CONF

LOG = logging.getLogger(__name__)
RETRYABLE = (exception.DBDeadlock, exception.DBConnectionError)

_local = threading.local()


class _Unit:
    __slots__ = ('name', 'done', 'sent', 'attempt', 'repeatable')

    def __init__(self, name, attempt=0):
        self.name = name
        self.done = None  # what made it unsafe to run again
        self.sent = False
        self.attempt = attempt  # 0: the first try
        self.repeatable = 0  # inside repeatable(): nothing is noted


def rerun():
    """True in a try after a lost transaction (of the innermost unit or
    part): what the lost one wrote may have committed all the same."""
    unit = current()
    return unit is not None and unit.attempt > 0


def current():
    return getattr(_local, 'unit', None)


def note_committed_write():
    """A transaction that wrote has committed: running the unit again
    would write it twice."""
    unit = current()
    if unit is not None and unit.done is None and not unit.repeatable:
        unit.done = 'a committed write'


@contextlib.contextmanager
def repeatable():
    """``with repeatable():`` around what is harmless to do again: an RPC
    call that only reads (the image service's facts of an image), a write
    that makes a row only when it is missing (a project's quota usage).
    What it sends or commits does not stop the unit from running again (a
    server create does both before its own transaction)."""
    unit = current()
    if unit is not None:
        unit.repeatable += 1
    try:
        yield
    finally:
        if unit is not None:
            unit.repeatable -= 1


def note_sent():
    """A message left for another service: running again would send it twice."""
    unit = current()
    if unit is not None and not unit.repeatable:
        unit.sent = True
        if unit.done is None:
            unit.done = 'a message sent'


def backoff(attempt):
    """Seconds to wait before try ``attempt`` + 1 (0-based): the interval
    doubles from db_retry_interval up to db_max_retry_interval, with a
    little jitter so that units that failed together do not retry together."""
    opts = CONF.database
    delay = min(opts.db_retry_interval * (2 ** attempt), opts.db_max_retry_interval)
    return delay * random.uniform(0.8, 1.0)


def run(name, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` as a unit of work named ``name``. A unit
    inside a unit is part of the outer one."""
    if current() is not None:
        return fn(*args, **kwargs)
    return _run(name, fn, args, kwargs, lambda unit: unit.done)


def run_part(name, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)``, run again on a lost transaction even after
    it committed a write (``fn`` finds what an earlier try of it committed
    and does each write once), but not after it sent a message. Inside a
    unit, what it did counts for that unit once it returns or raises."""
    return _run(name, fn, args, kwargs, lambda unit: 'a message sent' if unit.sent else None)


def _run(name, fn, args, kwargs, unsafe):
    outer = current()
    attempt = 0
    try:
        while True:
            unit = _local.unit = _Unit(name, attempt)
            try:
                return fn(*args, **kwargs)
            except RETRYABLE as e:
                why = unsafe(unit)
                if why is not None or attempt >= CONF.database.db_max_retries:
                    LOG.warning('%s failed on the database (%s); not run again: %s', name, e,
                                'after %s' % why if why else 'out of retries')
                    raise
                delay = backoff(attempt)
                attempt += 1
                LOG.warning('%s: %s; running it again in %.2fs (retry %d of %d)', name, e,
                            delay, attempt, CONF.database.db_max_retries)
                time.sleep(delay)
            finally:
                if outer is not None:
                    outer.sent = outer.sent or unit.sent
                    if outer.done is None:
                        outer.done = unit.done
    finally:
        _local.unit = outer


def wrap(name, fn):
    """``fn`` that runs as a unit named ``name``."""
    @functools.wraps(fn)
    def unit(*args, **kwargs):
        return run(name, fn, *args, **kwargs)
    return unit


class Endpoints:
    """An RPC endpoint whose public methods each run as a unit of work
    (what the dispatcher reads, such as ``target``, passes through)."""

    def __init__(self, endpoint):
        self._endpoint = endpoint

    def __getattr__(self, attr):
        value = getattr(self._endpoint, attr)
        # Only methods: `target` (a Target, which is callable) and other
        # attributes pass through as they are.
        if attr.startswith('_') or not inspect.ismethod(value):
            return value
        return wrap('RPC %s' % attr, value)
