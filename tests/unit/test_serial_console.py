"""Serial console: the token store, the compute API's console URLs (and
their 400/404/409s), and the websocket proxy's token check and byte pump."""

import datetime
import socket
import threading
import time
import types
import urllib.parse
import urllib.request
import uuid
from unittest import mock

import pytest
import sqlalchemy as sa
from websockets import exceptions as ws_exc
from websockets.sync import client as ws_client

from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import console_models as conm
from common.db import console_tokens
from common.db.models import utcnow
from compute import manager as compute_manager
from compute import rpcapi as compute_rpcapi
from compute.virt import exception as virt_exception
from compute.virt import fake
from consoleproxy import server as proxy_server
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue as issue_token

V = {'OpenStack-API-Version': 'compute 2.61'}


def make_instance(project_id='p1', vm_state=st.ACTIVE, task_state=None, host='h1'):
    inst_id = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=inst_id, display_name='vm', hostname='vm',
                          project_id=project_id, user_id='u1', flavor={}, vcpus=1,
                          memory_mb=64, root_gb=1, vm_state=vm_state, task_state=task_state,
                          host=host))
    return inst_id


def set_instance(inst_id, **values):
    with db_api.session() as s:
        s.execute(sa.update(cm.Instance).where(cm.Instance.uuid == inst_id).values(**values))


# -- token store --------------------------------------------------------------

def test_token_round_trip_stores_only_a_hash(db):
    inst = make_instance()
    token = console_tokens.issue(inst, 'serial', 'h1', '127.0.0.1', 4555, ttl=600)
    got = console_tokens.validate(token)
    assert (got['instance_uuid'], got['compute_host'], got['host'], got['port']) == \
        (inst, 'h1', '127.0.0.1', 4555)
    with db_api.reader() as s:
        hashes = list(s.scalars(sa.select(conm.ConsoleAuthToken.token_hash)))
    assert len(hashes) == 1 and token not in hashes[0]


@pytest.mark.parametrize('bad', ['', 'bogus', 'x' * 300])
def test_unknown_token_is_refused(db, bad):
    with pytest.raises(console_tokens.InvalidToken, match='no such token'):
        console_tokens.validate(bad)


def test_expired_token_is_refused_and_purged(db):
    inst = make_instance()
    then = utcnow() - datetime.timedelta(seconds=700)
    old = console_tokens.issue(inst, 'serial', 'h1', '127.0.0.1', 4555, ttl=600, now=then)
    with pytest.raises(console_tokens.InvalidToken, match='expired'):
        console_tokens.validate(old)
    # Issuing a new token purges the expired ones.
    new = console_tokens.issue(inst, 'serial', 'h1', '127.0.0.1', 4555, ttl=600)
    with db_api.reader() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(conm.ConsoleAuthToken)) == 1
    assert console_tokens.validate(new)['port'] == 4555
    later = utcnow() + datetime.timedelta(seconds=601)
    assert console_tokens.purge_expired(now=later) == 1


def test_token_dies_with_its_instance_or_when_it_moves(db):
    inst = make_instance()
    token = console_tokens.issue(inst, 'serial', 'h1', '127.0.0.1', 4555, ttl=600)
    set_instance(inst, host='h2')
    with pytest.raises(console_tokens.InvalidToken, match='moved'):
        console_tokens.validate(token)
    set_instance(inst, host='h1', deleted=True)
    with pytest.raises(console_tokens.InvalidToken, match='gone'):
        console_tokens.validate(token)
    assert console_tokens.delete_for_instance(inst) == 1


# -- compute RPC --------------------------------------------------------------

def test_rpcapi_calls_at_1_5_with_a_timeout():
    api = compute_rpcapi.ComputeAPI.__new__(compute_rpcapi.ComputeAPI)
    api.client = mock.Mock()
    api.client.can_send_version.return_value = True
    api.client.prepare.return_value.call.return_value = {'host': '127.0.0.1', 'port': 1}
    assert api.get_serial_console('ctx', 'h1', {'uuid': 'u'}, timeout=7)['port'] == 1
    api.client.prepare.assert_called_once_with(server='h1', version='1.5', timeout=7)
    api.client.prepare.return_value.call.assert_called_once_with(
        'ctx', 'get_serial_console', instance={'uuid': 'u'})
    api.client.can_send_version.return_value = False
    with pytest.raises(Exception, match='too old'):
        api.get_serial_console('ctx', 'h1', {'uuid': 'u'})


def test_manager_asks_the_driver():
    d = fake.FakeDriver()
    inst = {'uuid': str(uuid.uuid4()), 'name': 'a', 'hostname': 'a', 'project_id': 'p',
            'user_id': 'u', 'image_ref': 'i', 'metadata': {},
            'flavor': {'name': 'f', 'vcpus': 1, 'memory_mb': 64, 'root_gb': 1,
                       'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}}}
    mgr = types.SimpleNamespace(driver=d)
    d.spawn(None, inst, {}, '/b', [])
    got = compute_manager.ComputeManager.get_serial_console(mgr, None, inst)
    assert got['host'] == '127.0.0.1' and got['port']
    d.power_off(inst)
    with pytest.raises(virt_exception.ConsoleNotAvailable):
        compute_manager.ComputeManager.get_serial_console(mgr, None, inst)
    # get_serial_console came with 1.5; later versions keep it.
    version = compute_rpcapi.ComputeAPI.VERSION
    assert compute_manager.ComputeManager.target.version == version
    assert tuple(int(p) for p in version.split('.')) >= (1, 5)


# -- compute API --------------------------------------------------------------

@pytest.fixture
def demo(client):
    token, body = issue_token(client, 'demo', DEMO_PW, 'demo')
    return dict(V, **{'X-Auth-Token': token}), body['token']['project']['id']


@pytest.fixture
def agent(monkeypatch):
    calls = []

    def get_serial_console(self, ctx, host, instance, timeout=None):
        calls.append((host, instance['uuid']))
        return {'host': '127.0.0.1', 'port': 10042}
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'get_serial_console', get_serial_console)
    return calls


def _remote(client, headers, inst, protocol='serial', kind='serial'):
    return client.post('/compute/v2.1/servers/%s/remote-consoles' % inst, headers=headers,
                       json={'remote_console': {'protocol': protocol, 'type': kind}})


def _token_of(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)['token'][0]


def test_remote_console_serial(client, demo, agent, conf):
    headers, project = demo
    conf.set_override('base_url', 'ws://proxy.example:6083/', 'serial_console')
    inst = make_instance(project)
    r = _remote(client, headers, inst)
    assert r.status_code == 200, r.get_data(as_text=True)
    rc = r.get_json()['remote_console']
    assert (rc['protocol'], rc['type']) == ('serial', 'serial')
    assert rc['url'].startswith('ws://proxy.example:6083/?token=')
    target = console_tokens.validate(_token_of(rc['url']))
    assert (target['instance_uuid'], target['port']) == (inst, 10042)
    assert agent == [('h1', inst)]
    conf.clear_override('base_url', 'serial_console')


@pytest.mark.parametrize('protocol,kind', [('vnc', 'xvpvnc'), ('spice', 'spice-html5'),
                                           ('rdp', 'rdp-html5'), ('mks', 'webmks')])
def test_other_console_types_name_what_is_offered(client, demo, agent, protocol, kind):
    headers, project = demo
    r = _remote(client, headers, make_instance(project), protocol, kind)
    assert r.status_code == 400
    # Nova's answer when its hosts do not offer the type ("Unavailable
    # console type spice-html5."), here naming what is offered; rdp is gone in Nova.
    expected = ('Unavailable console type rdp.' if protocol == 'rdp' else
                'Unavailable console type %s. Console types available: novnc, serial.'
                % kind)
    assert r.get_json()['badRequest']['message'] == expected
    assert agent == []


def test_remote_console_validation(client, demo, agent, conf):
    headers, project = demo
    inst = make_instance(project)
    r = _remote(client, headers, inst, 'vnc', 'serial')
    assert r.status_code == 400 and 'Invalid console type serial for protocol vnc' in \
        r.get_json()['badRequest']['message']
    r = _remote(client, headers, inst, 'serial', 'telnet')
    assert r.status_code == 400
    r = client.post('/compute/v2.1/servers/%s/remote-consoles' % inst, headers=headers,
                    json={'remote_console': {'protocol': 'serial'}})
    assert r.status_code == 400
    old = dict(headers, **{'OpenStack-API-Version': 'compute 2.5'})
    assert _remote(client, old, inst).status_code == 404
    assert _remote(client, headers, str(uuid.uuid4())).status_code == 404
    conf.set_override('enabled', False, 'serial_console')
    r = _remote(client, headers, inst)
    assert r.status_code == 400 and 'available: novnc.' in r.get_json()['badRequest']['message']
    conf.set_override('enabled', False, 'vnc')
    r = _remote(client, headers, inst)
    assert r.status_code == 400 and 'available: none' in r.get_json()['badRequest']['message']
    conf.clear_override('enabled', 'vnc')
    conf.clear_override('enabled', 'serial_console')
    assert agent == []


@pytest.mark.parametrize('vm_state,task_state,host', [
    (st.STOPPED, None, 'h1'), (st.BUILDING, 'scheduling', None), (st.ERROR, None, 'h1')])
def test_not_active_is_409(client, demo, agent, vm_state, task_state, host):
    headers, project = demo
    inst = make_instance(project, vm_state=vm_state, task_state=task_state, host=host)
    r = _remote(client, headers, inst)
    assert r.status_code == 409
    assert 'is not ready' in r.get_json()['conflictingRequest']['message']
    assert agent == []


def test_agent_saying_no_console_is_409(client, demo, monkeypatch):
    headers, project = demo

    def no_console(self, ctx, host, instance, timeout=None):
        raise virt_exception.ConsoleNotAvailable(instance_id=instance['uuid'])
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'get_serial_console', no_console)
    r = _remote(client, headers, make_instance(project))
    assert r.status_code == 409
    assert 'No serial console' in r.get_json()['conflictingRequest']['message']


def test_other_projects_server_is_404(client, demo, agent):
    headers, _project = demo
    assert _remote(client, headers, make_instance('someone-else')).status_code == 404


def test_legacy_actions(client, demo, agent):
    headers, project = demo
    inst = make_instance(project)
    old = dict(headers, **{'OpenStack-API-Version': 'compute 2.1'})
    r = client.post('/compute/v2.1/servers/%s/action' % inst, headers=old,
                    json={'os-getSerialConsole': {'type': 'serial'}})
    assert r.status_code == 200, r.get_data(as_text=True)
    con = r.get_json()['console']
    assert con['type'] == 'serial' and console_tokens.validate(_token_of(con['url']))
    r = client.post('/compute/v2.1/servers/%s/action' % inst, headers=old,
                    json={'os-getVNCConsole': {'type': 'xvpvnc'}})
    assert r.status_code == 400 and 'available: novnc, serial' in \
        r.get_json()['badRequest']['message']
    r = client.post('/compute/v2.1/servers/%s/action' % inst, headers=old,
                    json={'os-getSerialConsole': {'type': 'novnc'}})
    assert r.status_code == 400


# -- proxy --------------------------------------------------------------------

class EchoGuest:
    """A one-client-at-a-time TCP server that upper-cases what it gets, like
    a guest's serial socket that echoes input."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())


@pytest.fixture
def proxy():
    guest = EchoGuest()
    good = {'instance_uuid': 'i-1', 'console_type': 'serial', 'compute_host': 'h1',
            'host': '127.0.0.1', 'port': guest.port}

    def validate(token):
        if token != 'good':
            raise console_tokens.InvalidToken(reason='no such token')
        return good
    p = proxy_server.SerialProxy('127.0.0.1', 0, validate=validate,
                                 base_url='ws://127.0.0.1:6083/',
                                 allowed_origins=['dash.example'])
    t = threading.Thread(target=p.serve_forever, daemon=True)
    t.start()
    yield 'ws://127.0.0.1:%d/' % p.port
    p.shutdown()
    t.join(timeout=5)
    guest.sock.close()


def test_proxy_pumps_bytes(proxy):
    with ws_client.connect(proxy + '?token=good', subprotocols=['binary']) as ws:
        assert ws.subprotocol == 'binary'
        ws.send(b'echo hello\n')
        got = b''
        while b'ECHO HELLO\n' not in got:
            got += ws.recv(timeout=5)


def test_proxy_base64_subprotocol(proxy):
    import base64
    with ws_client.connect(proxy + '?token=good', subprotocols=['base64']) as ws:
        ws.send(base64.b64encode(b'abc').decode())
        assert base64.b64decode(ws.recv(timeout=5)) == b'ABC'


@pytest.mark.parametrize('query', ['?token=bogus', '', '?token='])
def test_proxy_refuses_bad_tokens(proxy, query):
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(proxy + query, subprotocols=['binary'])
    assert e.value.response.status_code == 403


@pytest.mark.parametrize('origin,ok', [
    ('http://127.0.0.1:8000', True),          # a dashboard on the proxy's host
    ('https://dash.example', True),           # [console] allowed_origins
    ('http://evil.example', False), ('null', False), ('file://', False)])
def test_proxy_checks_the_origin_of_browsers(proxy, origin, ok):
    if ok:
        with ws_client.connect(proxy + '?token=good', subprotocols=['binary'],
                               origin=origin) as ws:
            ws.send(b'a')
            assert ws.recv(timeout=5) == b'A'
        return
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(proxy + '?token=good', subprotocols=['binary'], origin=origin)
    assert e.value.response.status_code == 403
    assert b'Origin' in e.value.response.body


def test_proxy_second_client_gets_a_reason(proxy):
    with ws_client.connect(proxy + '?token=good', subprotocols=['binary']) as first:
        first.send(b'x')
        assert first.recv(timeout=5) == b'X'
        with ws_client.connect(proxy + '?token=good', subprotocols=['binary']) as second:
            with pytest.raises(ws_exc.ConnectionClosed):
                second.recv(timeout=5)
            assert second.close_code == 1013
            assert 'in use by another client' in second.close_reason
        first.send(b'y')
        assert first.recv(timeout=5) == b'Y'


def test_proxy_healthcheck(proxy):
    url = proxy.replace('ws://', 'http://') + 'healthcheck'
    assert urllib.request.urlopen(url, timeout=5).status == 200


def test_proxy_a_client_right_after_another_gets_the_console(proxy, monkeypatch):
    """The next client, connecting as soon as the last one's close is done,
    is not refused while the proxy winds that session down (here made to
    take 0.3 s)."""
    pump = proxy_server.SerialProxy._pump

    def slow_to_end(self, connection, target):
        pump(self, connection, target)
        time.sleep(0.3)
    monkeypatch.setattr(proxy_server.SerialProxy, '_pump', slow_to_end)
    for n in range(3):
        with ws_client.connect(proxy + '?token=good', subprotocols=['binary']) as ws:
            ws.send(b'a')
            assert ws.recv(timeout=5) == b'A', n
