"""An agent's state report whose answer was lost (the faults tier's kill -9
of the conductor in a boot burst: the update committed, the conductor died
before it answered): the retry is refused, since the server is no longer
in the expected task, and the agent must not take that as "the server
changed" (its build would stop half-way, the server in BUILD for ever)."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from common import rpc
from compute import state_reports

SID = '11111111-2222-3333-4444-555555555555'


class Conductor:
    """Applies the first update, then dies before answering it."""

    def __init__(self, lost=1, row=None, then=None):
        self.lost = lost
        self.then = then or {}
        self.row = row or {'uuid': SID, 'vm_state': st.BUILDING, 'task_state': st.SCHEDULING}
        self.calls = 0

    def instance_update(self, ctx, uuid, values, expected_task_states=None):
        self.calls += 1
        if expected_task_states and self.row['task_state'] not in expected_task_states:
            return None
        self.row.update(values)
        if self.lost:
            self.lost -= 1
            self.row.update(self.then)  # what happened to it meanwhile
            raise messaging.MessagingTimeout('no answer')
        return dict(self.row)

    def get_host_instances(self, ctx, host):
        return [dict(self.row), {'uuid': 'other', 'vm_state': st.ACTIVE, 'task_state': None}]


class Agent:
    host = 'h1'

    def __init__(self, conductor):
        self.conductor = conductor


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(rpc.time, 'sleep', lambda s: None)


def report(conductor, values, expected):
    return state_reports.StateReports(Agent(conductor)).update(None, {'uuid': SID}, values,
                                                                expected=expected)


def test_a_retry_refused_because_the_lost_try_applied_it_is_the_update():
    c = Conductor()
    got = report(c, {'task_state': st.SPAWNING}, [st.SCHEDULING])
    assert c.calls == 2 and got['task_state'] == st.SPAWNING


def test_the_build_end_applied_unanswered_is_the_update():
    c = Conductor(row={'uuid': SID, 'vm_state': st.BUILDING, 'task_state': st.SPAWNING})
    got = report(c, {'vm_state': st.ACTIVE, 'task_state': None, 'power_state': 1,
                     'launched_at': 'now'}, [st.SPAWNING])
    assert got['vm_state'] == st.ACTIVE


def test_a_server_that_changed_still_refuses():
    # Deleted while the answer was lost: the records hold another task.
    c = Conductor(then={'task_state': st.DELETING})
    assert report(c, {'task_state': st.SPAWNING}, [st.SCHEDULING]) is None
    assert c.calls == 2
    # Refused at the first try: no second look.
    c = Conductor(lost=0, row={'uuid': SID, 'vm_state': st.BUILDING,
                               'task_state': st.SPAWNING})
    assert report(c, {'task_state': st.SPAWNING}, [st.SCHEDULING]) is None
