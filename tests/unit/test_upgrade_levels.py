"""[upgrade_levels]: every rpcapi client sends at most its topic's cap, so
the old-agent branches of the rpcapis are taken while a rolling upgrade
leaves old services on the bus."""

import glob
import importlib
import os

import oslo_messaging as messaging
import pytest

from common import context
from common import exception
from common import rpc
from common.conf import CONF
from compute import rpcapi as compute_rpcapi
from scheduler import rpcapi as scheduler_rpcapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTANCE = {'uuid': 'u-1', 'host': 'h1'}
CTX = context.RequestContext()


@pytest.fixture
def sent(monkeypatch):
    """What the clients put on a fake bus: [(method, version, server)]."""
    transport = messaging.get_rpc_transport(CONF, url='fake:/')
    out = []

    def _send(target, ctxt, message, **kw):
        out.append((message['method'], message.get('version'), target.server))

    monkeypatch.setattr(transport, '_send', _send)
    monkeypatch.setattr(rpc, 'get_transport', lambda: transport)
    yield out
    transport.cleanup()


@pytest.fixture
def cap(request):
    """cap('compute', '1.4') until the test ends."""
    set_ = []

    def _cap(topic, version):
        CONF.set_override(topic, version, 'upgrade_levels')
        set_.append(topic)

    yield _cap
    for topic in set_:
        CONF.clear_override(topic, 'upgrade_levels')


def test_every_topic_has_an_option_and_none_is_no_cap():
    for topic in ('compute', 'scheduler', 'conductor', 'volume', 'image'):
        assert CONF.upgrade_levels[topic] is None
        assert rpc.version_cap(topic) is None
    assert rpc.version_cap('no-such-topic') is None


def test_a_cap_must_be_a_version():
    with pytest.raises(ValueError):
        CONF.set_override('compute', 'latest', 'upgrade_levels')
    CONF.set_override('compute', '1.10', 'upgrade_levels')
    try:
        assert rpc.version_cap('compute') == '1.10'
    finally:
        CONF.clear_override('compute', 'upgrade_levels')


def test_without_a_cap_the_newest_version_is_sent(sent):
    api = compute_rpcapi.ComputeAPI()
    assert api.client.can_send_version(api.VERSION)
    api.snapshot_instance(CTX, 'h1', INSTANCE, 'img-1', 'http://x/upload')
    assert sent == [('snapshot_instance', '1.6', 'h1')]


def test_the_client_takes_the_cap_of_its_own_topic(sent, cap):
    cap('compute', '1.4')
    assert not compute_rpcapi.ComputeAPI().client.can_send_version('1.5')
    assert scheduler_rpcapi.SchedulerAPI().client.can_send_version(
        scheduler_rpcapi.SchedulerAPI.VERSION)


def test_capped_compute_takes_the_old_agent_paths(sent, cap):
    cap('compute', '1.4')
    api = compute_rpcapi.ComputeAPI()
    # What a 1.4 agent knows still goes out, at the version it was asked for.
    api.pause_instance(CTX, 'h1', INSTANCE)
    api.stop_instance(CTX, 'h1', INSTANCE)
    assert sent == [('pause_instance', '1.4', 'h1'), ('stop_instance', '1.1', 'h1')]
    # What it does not know is refused here, before anything is sent.
    with pytest.raises(exception.ServiceUnavailable, match='too old for snapshots'):
        api.snapshot_instance(CTX, 'h1', INSTANCE, 'img-1', 'http://x/upload')
    with pytest.raises(exception.ServiceUnavailable, match='too old for serial consoles'):
        api.get_serial_console(CTX, 'h1', INSTANCE)
    move = {'source_compute': 'h1', 'dest_compute': 'h2', 'uuid': 'm-1'}
    with pytest.raises(exception.ServiceUnavailable, match='does not know resize_instance'):
        api.resize_instance(CTX, 'h1', INSTANCE, move)
    with pytest.raises(exception.ServiceUnavailable, match='does not know evacuate'):
        api.evacuate_instance(CTX, 'h2', INSTANCE, move, [])
    assert len(sent) == 2


def test_a_cap_below_a_pause_refuses_it(sent, cap):
    cap('compute', '1.3')
    with pytest.raises(exception.ServiceUnavailable, match='does not know pause_instance'):
        compute_rpcapi.ComputeAPI().pause_instance(CTX, 'h1', INSTANCE)
    assert sent == []


def test_a_cap_at_the_old_release_lets_its_methods_through(sent, cap):
    cap('compute', '1.8')
    api = compute_rpcapi.ComputeAPI()
    move = {'source_compute': 'h1', 'dest_compute': 'h2', 'uuid': 'm-1'}
    api.resize_instance(CTX, 'h1', INSTANCE, move)
    with pytest.raises(exception.ServiceUnavailable):
        api.evacuate_instance(CTX, 'h2', INSTANCE, move, [])
    assert sent == [('resize_instance', '1.8', 'h1')]


def test_every_rpcapi_takes_the_cap_of_its_topic(sent, cap):
    """Each */rpcapi.py (a new one too) has an option and goes through get_client."""
    found = 0
    for path in glob.glob(os.path.join(ROOT, '*', 'rpcapi.py')):
        mod = importlib.import_module('%s.rpcapi' % os.path.basename(os.path.dirname(path)))
        assert mod.TOPIC in CONF.upgrade_levels, 'no [upgrade_levels] %s' % mod.TOPIC
        client_cls = next(c for c in vars(mod).values()
                          if isinstance(c, type) and hasattr(c, 'VERSION'))
        cap(mod.TOPIC, '1.0')
        client = client_cls().client
        assert client.can_send_version('1.0')
        assert not client.can_send_version('1.1'), mod.__name__
        found += 1
    assert found >= 4
