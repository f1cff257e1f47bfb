"""common.rpc names the queue manager's queues after the service (not
argv[0], which is cmd.py or -c for every service run as a module) and
gives it a lock directory; a cloud on a cluster writes its options."""

import os
import subprocess
import sys
import time
import types

import pytest

from common import rpc
from common import service
from common.conf import CONF
from tests.fixtures import rabbit_cluster
from tests.functional.cloud import ROOT
from tests.functional.cloud import LocalCloud


@pytest.fixture
def named():
    rpc.register_rabbit_opts()
    yield
    rpc.set_service_name(None)
    CONF.set_default('use_queue_manager', False, group=rpc.RABBIT_GROUP)
    for opt in ('hostname', 'processname', 'use_queue_manager'):
        CONF.clear_override(opt, group=rpc.RABBIT_GROUP)


def test_a_process_that_is_no_service_gets_its_pid_in_the_name(named, conf):
    host, processname = rpc.queue_names()
    assert host == CONF.host
    assert processname == '%s-%d' % (os.path.basename(sys.argv[0]), os.getpid())


def test_a_service_is_named_after_its_binary(named, conf):
    conf.set_override('host', 'ctl-1')
    try:
        rpc.set_service_name('nova-scheduler')
        rpc._set_queue_name_defaults()
        opts = CONF.oslo_messaging_rabbit
        assert (opts.hostname, opts.processname) == ('ctl-1', 'nova-scheduler')
        assert CONF.oslo_concurrency.lock_path == os.path.join(CONF.state_path, 'lock')
    finally:
        conf.clear_override('host')


def test_the_operators_names_win(named, conf):
    CONF.set_override('processname', 'api-copy-2', group=rpc.RABBIT_GROUP)
    rpc.set_service_name('altostack-api')
    rpc._set_queue_name_defaults()
    assert CONF.oslo_messaging_rabbit.processname == 'api-copy-2'


def test_a_process_that_is_no_service_does_without_the_queue_manager(named, conf):
    # As a configuration file sets it (an override would be ours to clear).
    CONF.set_default('use_queue_manager', True, group=rpc.RABBIT_GROUP)
    rpc._set_queue_name_defaults()
    assert CONF.oslo_messaging_rabbit.use_queue_manager is False
    # A service keeps what the operator configured.
    rpc.set_service_name('nova-compute')
    rpc._set_queue_name_defaults()
    assert CONF.oslo_messaging_rabbit.use_queue_manager is True


# A service whose starter (a script without job control) exited: the
# process group it was started in has no leader any more, and it lives on
# in it until it asks the queue manager for a name.
ORPHANED_SERVICE = r"""
import os, sys, time
from oslo_concurrency import lockutils
from oslo_messaging._drivers import amqpdriver
from common import service
lockutils.set_defaults(sys.argv[1])
while os.path.exists('/proc/%d' % os.getpgrp()):
    time.sleep(0.05)
qm = amqpdriver.QManager('unit-%d' % os.getpid(), 'nova-compute')
try:
    qm.get()
    before = 'named'
except OSError as e:
    before = type(e).__name__
led = service.lead_process_group()
try:
    print(before, led, os.getpgrp() == os.getpid(), qm.get(), qm.get())
finally:
    os.remove(qm.file_name)
"""


def test_a_service_whose_starter_exited_leads_its_own_group_and_names_its_queues(tmp_path):
    out = tmp_path / 'out'
    subprocess.run(['bash', '-c', '"$0" -W ignore -c "$1" "$2" >"$3" 2>"$3.err" </dev/null &',
                    sys.executable, ORPHANED_SERVICE, str(tmp_path), str(out)],
                   check=True, start_new_session=True, timeout=30,
                   env=dict(os.environ, PYTHONPATH=ROOT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out.exists() and
                                               out.read_text().endswith('\n')):
        time.sleep(0.1)
    words = out.read_text().split()
    assert len(words) == 5, out.read_text() + (tmp_path / 'out.err').read_text()[-2000:]
    # oslo.messaging 18.3 fails without a group leader (the bug this avoids).
    assert words[0] in ('FileNotFoundError', 'named'), out.read_text()
    pid = words[3].split(':')[0].split('-')[1]
    assert words[1:] == ['True', 'True', 'unit-%s:nova-compute:1' % pid,
                         'unit-%s:nova-compute:2' % pid], out.read_text()


def test_a_service_that_leads_its_group_already_stays(monkeypatch):
    calls = []
    monkeypatch.setattr(os, 'getpgrp', lambda: os.getpid())
    monkeypatch.setattr(os, 'setpgid', lambda *a: calls.append(a))
    assert service.lead_process_group() is False and calls == []


def test_a_service_in_a_terminals_foreground_stays(monkeypatch):
    calls = []
    monkeypatch.setattr(os, 'getpgrp', lambda: 4242)
    monkeypatch.setattr(os, 'setpgid', lambda *a: calls.append(a))
    monkeypatch.setattr(service, '_terminal_foreground', lambda group: group == 4242)
    assert service.lead_process_group() is False and calls == []
    monkeypatch.setattr(service, '_terminal_foreground', lambda group: False)
    assert service.lead_process_group() is True and calls == [(0, 0)]


def test_connections_of_a_cluster_by_node():
    text = ('[{"port": 21002, "client_properties": '
            '[["connection_name", "longstr", "cmd.py:4242:9f1c"], ["product", "longstr", "x"]]},'
            ' {"port": 21003, "client_properties": '
            '{"connection_name": "altostack-api:77:aa"}}]')
    conns = rabbit_cluster.parse_connections(text, {21001: 1, 21002: 2, 21003: 3})
    assert conns == [(2, 'cmd.py:4242:9f1c'), (3, 'altostack-api:77:aa')]
    assert [rabbit_cluster.connection_pid(n) for _, n in conns] == [4242, 77]
    assert rabbit_cluster.connection_pid('no-pid-here') is None


def test_a_cloud_on_a_cluster_writes_its_url_and_options():
    bus = types.SimpleNamespace(
        url='rabbit://u:p@127.0.0.1:21001,u:p@127.0.0.1:21002,u:p@127.0.0.1:21003/v',
        options={'rabbit_quorum_queue': True, 'heartbeat_rate': 2})
    cloud = LocalCloud(transport=bus)
    try:
        assert cloud.transport_url == bus.url
        assert cloud.broker_ports() == [21001, 21002, 21003]
        cloud._write_conf()
        with open(cloud.conf_path) as f:
            text = f.read()
        assert 'transport_url = %s\n' % bus.url in text
        assert ('[oslo_messaging_rabbit]\nheartbeat_rate = 2\nrabbit_quorum_queue = true\n'
                in text)
    finally:
        import shutil
        shutil.rmtree(cloud.workdir)


def test_a_cloud_alone_has_a_vhost_on_the_machines_broker():
    cloud = LocalCloud()
    try:
        assert cloud.transport_url.endswith('/' + cloud.vhost)
        assert cloud._rabbit_conf() == ''
    finally:
        import shutil
        shutil.rmtree(cloud.workdir)


def test_the_cluster_library_keeps_its_ports(tmp_path):
    """The shell library picks free ports once and the URL lists every node,
    without starting anything."""
    def url():
        return subprocess.run(
            ['bash', '-c', 'source "$0" && altostack_rabbit_cluster_url "$1"',
             rabbit_cluster.LIB, str(tmp_path)], capture_output=True, text=True,
            check=True).stdout.strip()
    first = url()
    assert first == url()
    hosts = first.split('://', 1)[1].rsplit('/', 1)[0].split(',')
    assert len(hosts) == 3 and first.endswith('/altostack')
    ports = [int(h.rsplit(':', 1)[1]) for h in hosts]
    assert len(set(ports)) == 3 and all(20000 <= p < 30000 for p in ports)
    assert (tmp_path / 'home' / '.erlang.cookie').stat().st_mode & 0o777 == 0o400


def test_the_cluster_client_options_are_known_to_oslo_messaging(named):
    options = rabbit_cluster.client_options()
    for name in ('rabbit_quorum_queue', 'rabbit_transient_quorum_queue',
                 'rabbit_stream_fanout', 'use_queue_manager'):
        assert options[name] == 'true'
    for name, value in options.items():
        CONF.set_override(name, value, group=rpc.RABBIT_GROUP)  # typed: raises if unknown
        CONF.clear_override(name, group=rpc.RABBIT_GROUP)
