"""common.rpc.call_until_answered: the one retry of an agent's report."""

import oslo_messaging as messaging
import pytest

from common import rpc


@pytest.fixture
def slept(monkeypatch):
    waits = []
    monkeypatch.setattr(rpc.time, 'sleep', waits.append)
    return waits


def test_answers_after_timeouts_with_backoff(slept):
    answers = iter([messaging.MessagingTimeout(), messaging.MessagingTimeout(), 'ok'])

    def call():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    assert rpc.call_until_answered(call, 'a report') == 'ok'
    assert slept == [1, 2]


def test_gives_up_with_the_last_timeout(slept):
    calls = []

    def call():
        calls.append(1)
        raise messaging.MessagingTimeout('nobody')

    with pytest.raises(messaging.MessagingTimeout):
        rpc.call_until_answered(call, 'a report', tries=6, max_backoff=5)
    assert len(calls) == 6
    assert slept == [1, 2, 4, 5, 5]  # no wait after the last try


def test_other_errors_are_not_retried(slept):
    def call():
        raise ValueError('bad')

    with pytest.raises(ValueError):
        rpc.call_until_answered(call, 'a report')
    assert slept == []
