"""A stopping service gives its periodic threads one grace period between
them: threads stuck in calls to services that have gone do not each hold
the stop for the whole period."""

import threading
import time

from common import service


class _Manager:
    pass


def test_stuck_threads_share_one_grace_period(monkeypatch):
    monkeypatch.setattr(service, 'STOP_GRACE', 0.3)
    svc = service.Service('nova-test', 'test', _Manager(), host='h', rpc_topics=[])
    never = threading.Event()
    for n in range(3):
        svc._start_thread('stuck%d' % n, never.wait)
    started = time.monotonic()
    svc.stop()
    took = time.monotonic() - started
    never.set()
    assert took < 0.7, took   # one period (0.3 s), not three
    assert svc._stop.is_set()
