"""The failover test's probe (tests/fixtures/bus_probe.py): its output read
back, and the time until a call sent after a kill was answered."""

from tests.fixtures import bus_probe


def test_events_read_back_and_first_answer_after_a_kill():
    text = '\n'.join([
        'some log line',
        '{"ev": "cast", "i": 0, "t": 100.0}',
        '{"ev": "ping", "to": "scheduler", "ok": true, "t0": 99.0, "t1": 99.1}',
        '{"ev": "ping", "to": "scheduler", "ok": false, "t0": 100.2, "t1": 102.2}',
        '{"ev": "ping", "to": "scheduler", "ok": true, "t0": 102.4, "t1": 102.5}',
        '{"ev": "cast", "i": 1, "t": 101.0}'])
    events = bus_probe.parse_events(text)
    assert events['casts'] == [(0, 100.0), (1, 101.0)]
    pings = events['pings']['scheduler']
    assert len(pings) == 3
    # The answer to the ping sent before the kill does not count.
    assert round(bus_probe.first_answer_after(pings, 100.0), 2) == 2.5
    assert bus_probe.first_answer_after(pings, 103.0) is None
    assert bus_probe.probe_host('ab12', 7) == 'busprobe-ab12-7'
