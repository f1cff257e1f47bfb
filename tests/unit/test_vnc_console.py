"""VNC consoles: the guests' displays in the domain XML (and after a live
migration), the compute RPC that finds one, the compute API's noVNC URLs
(remote-consoles and os-getVNCConsole), and altostack-novncproxy's checks
(Origin, token), byte pump, health check and static files."""

import importlib.util
import socket
import threading
import types
import urllib.error
import urllib.parse
import urllib.request
import uuid
from unittest import mock

import pytest
from websockets import exceptions as ws_exc
from websockets.sync import client as ws_client

from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import console_tokens
from compute import manager as compute_manager
from compute import rpcapi as compute_rpcapi
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt.libvirt import config as virt_config
from compute.virt.libvirt import designer
from compute.virt.libvirt import live_migration
from consoleproxy import novnc
from consoleproxy import origin as origin_rules
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue as issue_token
from tests.fixtures.libvirt_test import make_instance as make_guest_instance
from tests.fixtures.libvirt_test import spawn

V = {'OpenStack-API-Version': 'compute 2.61'}
BANNER = b'RFB 003.008\n'
needs_libvirt = pytest.mark.skipif(importlib.util.find_spec('libvirt') is None,
                                   reason='needs libvirt-python')


# -- the domain XML -----------------------------------------------------------

def _guest_xml(vnc_listen):
    return designer.guest_config(make_guest_instance(), 'qemu', '/i/disk', '/i/disk.config',
                                 '127.0.0.1', 10000, '/i/console.log',
                                 vnc_listen=vnc_listen).to_xml()


def test_guest_has_a_vnc_display_on_the_listen_address():
    xml = _guest_xml('127.0.0.1')
    assert "<graphics type=\"vnc\" autoport=\"yes\" listen=\"127.0.0.1\">" in xml
    assert '<listen type="address" address="127.0.0.1" />' in xml
    assert '<model type="vga" />' in xml
    # Not started: libvirt picks the port then.
    assert virt_config.parse_domain(xml)['graphics'] == [
        {'type': 'vnc', 'listen': '127.0.0.1', 'port': None}]


def test_no_display_without_a_listen_address():
    xml = _guest_xml(None)
    assert '<graphics' not in xml and '<video' not in xml
    assert virt_config.parse_domain(xml)['graphics'] == []


LIVE = """<domain type='qemu'><name>altostack-x</name><uuid>x</uuid><devices>
  <graphics type='vnc' port='5901' autoport='yes' listen='10.250.0.2'>
    <listen type='address' address='10.250.0.2'/></graphics>
  <serial type='tcp'><source mode='bind' host='10.250.0.2' service='10001'/>
    <target port='0'/></serial>
</devices></domain>"""


def test_live_xml_gives_the_display_port():
    assert virt_config.parse_domain(LIVE)['graphics'] == [
        {'type': 'vnc', 'listen': '10.250.0.2', 'port': 5901}]


def test_live_migration_moves_the_display_to_the_destination_address():
    xml = live_migration.destination_xml(LIVE, None, '/d/disk.config', '10.250.0.3', 10002,
                                         '/d/console.log', vnc_listen='10.250.0.3')
    got = virt_config.parse_domain(xml)
    # The port is the destination libvirt's choice (autoport).
    assert got['graphics'] == [{'type': 'vnc', 'listen': '10.250.0.3', 'port': None}]
    assert "10.250.0.2" not in xml
    assert got['serial_tcp'] == [{'host': '10.250.0.3', 'port': 10002}]


@needs_libvirt
def test_libvirt_guest_is_defined_with_a_display(drv, base, conf):
    inst = spawn(drv, base)
    guest = drv.host.get_guest(inst['uuid'])
    assert guest.get_config()['graphics'][0]['listen'] == '127.0.0.1'
    # libvirt's test driver starts no qemu: no port was chosen.
    with pytest.raises(virt_exception.GraphicalConsoleNotAvailable):
        drv.get_vnc_console(inst)
    drv.power_off(inst, timeout=0)
    with pytest.raises(virt_exception.GraphicalConsoleNotAvailable, match='not running'):
        drv.get_vnc_console(inst)


@needs_libvirt
def test_libvirt_vnc_disabled_means_no_display(drv, base, conf):
    conf.set_override('enabled', False, 'vnc')
    try:
        inst = spawn(drv, base)
    finally:
        conf.clear_override('enabled', 'vnc')
    assert drv.host.get_guest(inst['uuid']).get_config()['graphics'] == []


@needs_libvirt
def test_libvirt_reports_the_proxyclient_address_and_the_live_port(drv, base, conf,
                                                                   monkeypatch):
    inst = spawn(drv, base)
    guest = drv.host.get_guest(inst['uuid'])
    monkeypatch.setattr(type(guest), 'get_xml_desc', lambda self: LIVE)
    conf.set_override('server_proxyclient_address', '10.250.0.2', 'vnc')
    try:
        assert drv.get_vnc_console(inst) == {'host': '10.250.0.2', 'port': 5901}
    finally:
        conf.clear_override('server_proxyclient_address', 'vnc')


# -- compute RPC ----------------------------------------------------------------

def test_rpcapi_calls_at_1_11_with_a_timeout():
    api = compute_rpcapi.ComputeAPI.__new__(compute_rpcapi.ComputeAPI)
    api.client = mock.Mock()
    cctxt = api.client.prepare.return_value
    cctxt.can_send_version.return_value = True
    cctxt.call.return_value = {'host': '127.0.0.1', 'port': 5900}
    assert api.get_vnc_console('ctx', 'h1', {'uuid': 'u'}, timeout=7)['port'] == 5900
    api.client.prepare.assert_called_once_with(server='h1', version='1.11', timeout=7)
    cctxt.call.assert_called_once_with('ctx', 'get_vnc_console', instance={'uuid': 'u'})
    cctxt.can_send_version.return_value = False
    with pytest.raises(Exception, match='too old for VNC'):
        api.get_vnc_console('ctx', 'h1', {'uuid': 'u'})


def test_manager_asks_the_driver():
    d = fake.FakeDriver()
    inst = make_guest_instance()
    mgr = types.SimpleNamespace(driver=d)
    d.spawn(None, inst, {}, '/b', [])
    got = compute_manager.ComputeManager.get_vnc_console(mgr, None, inst)
    assert got['host'] == '127.0.0.1' and got['port'] >= 5900
    d.power_off(inst)
    with pytest.raises(virt_exception.ConsoleNotAvailable, match='No VNC console.*not running'):
        compute_manager.ComputeManager.get_vnc_console(mgr, None, inst)
    assert compute_manager.ComputeManager.target.version == compute_rpcapi.ComputeAPI.VERSION


# -- compute API ----------------------------------------------------------------

def make_instance(project_id, vm_state=st.ACTIVE, host='h1'):
    inst_id = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=inst_id, display_name='vm', hostname='vm',
                          project_id=project_id, user_id='u1', flavor={}, vcpus=1,
                          memory_mb=64, root_gb=1, vm_state=vm_state, host=host))
    return inst_id


@pytest.fixture
def demo(client):
    token, body = issue_token(client, 'demo', DEMO_PW, 'demo')
    return dict(V, **{'X-Auth-Token': token}), body['token']['project']['id']


@pytest.fixture
def agent(monkeypatch):
    calls = []

    def get_vnc_console(self, ctx, host, instance, timeout=None):
        calls.append((host, instance['uuid']))
        return {'host': '127.0.0.1', 'port': 5901}
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'get_vnc_console', get_vnc_console)
    return calls


def _remote(client, headers, inst, protocol='vnc', kind='novnc'):
    return client.post('/compute/v2.1/servers/%s/remote-consoles' % inst, headers=headers,
                       json={'remote_console': {'protocol': protocol, 'type': kind}})


def _token_of(url):
    """The token in a noVNC URL: inside its ``path`` parameter, as Nova puts it."""
    path = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)['path'][0]
    assert path.startswith('?token=')
    return urllib.parse.parse_qs(path[1:])['token'][0]


def test_remote_console_novnc_is_novas_url(client, demo, agent, conf):
    headers, project = demo
    conf.set_override('novncproxy_base_url', 'https://console.example:6080/vnc_lite.html',
                      'vnc')
    inst = make_instance(project)
    try:
        r = _remote(client, headers, inst)
    finally:
        conf.clear_override('novncproxy_base_url', 'vnc')
    assert r.status_code == 200, r.get_data(as_text=True)
    rc = r.get_json()['remote_console']
    assert (rc['protocol'], rc['type']) == ('vnc', 'novnc')
    assert rc['url'].startswith('https://console.example:6080/vnc_lite.html?path=%3Ftoken%3D')
    token = _token_of(rc['url'])
    target = console_tokens.validate(token, console_type='novnc')
    assert (target['instance_uuid'], target['host'], target['port']) == \
        (inst, '127.0.0.1', 5901)
    assert target['console_type'] == 'novnc'
    # A noVNC token opens no serial console (nor the other way round).
    with pytest.raises(console_tokens.InvalidToken, match='for a novnc console'):
        console_tokens.validate(token)
    assert agent == [('h1', inst)]


def test_os_get_vnc_console_before_2_6(client, demo, agent):
    headers, project = demo
    inst = make_instance(project)
    old = dict(headers, **{'OpenStack-API-Version': 'compute 2.5'})
    r = client.post('/compute/v2.1/servers/%s/action' % inst, headers=old,
                    json={'os-getVNCConsole': {'type': 'novnc'}})
    assert r.status_code == 200, r.get_data(as_text=True)
    con = r.get_json()['console']
    assert con['type'] == 'novnc'
    assert con['url'].startswith('http://127.0.0.1:6080/vnc_lite.html?path=%3Ftoken%3D')
    assert console_tokens.validate(_token_of(con['url']), console_type='novnc')
    # Gone at 2.6, as in Nova.
    r = client.post('/compute/v2.1/servers/%s/action' % inst, headers=headers,
                    json={'os-getVNCConsole': {'type': 'novnc'}})
    assert r.status_code == 404


def test_xvpvnc_and_disabled_vnc_are_400(client, demo, agent, conf):
    headers, project = demo
    inst = make_instance(project)
    r = _remote(client, headers, inst, 'vnc', 'xvpvnc')
    assert r.status_code == 400
    assert r.get_json()['badRequest']['message'] == (
        'Unavailable console type xvpvnc. Console types available: novnc, serial.')
    conf.set_override('enabled', False, 'vnc')
    try:
        r = _remote(client, headers, inst)
    finally:
        conf.clear_override('enabled', 'vnc')
    assert r.status_code == 400
    assert 'Unavailable console type novnc. Console types available: serial.' == \
        r.get_json()['badRequest']['message']
    assert agent == []


def test_not_active_is_409_and_no_display_is_409(client, demo, agent, monkeypatch):
    headers, project = demo
    r = _remote(client, headers, make_instance(project, vm_state=st.STOPPED))
    assert r.status_code == 409
    assert 'the VNC console needs a running' in r.get_json()['conflictingRequest']['message']
    assert agent == []

    def no_display(self, ctx, host, instance, timeout=None):
        no = virt_exception.GraphicalConsoleNotAvailable
        raise no(instance_id=instance['uuid'], reason=no.NO_DISPLAY)
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'get_vnc_console', no_display)
    r = _remote(client, headers, make_instance(project))
    assert r.status_code == 409
    assert 'has no display' in r.get_json()['conflictingRequest']['message']


# -- the proxy's checks ---------------------------------------------------------

HOSTS = origin_rules.allowed_hosts('http://console.example:6080/vnc_lite.html',
                            ['dash.example', 'https://Other.Example:8443'])


def test_allowed_hosts_are_the_base_urls_and_the_configured_ones():
    assert HOSTS == {'console.example', 'dash.example', 'other.example'}


@pytest.mark.parametrize('origin', [None, 'http://console.example:6080',
                                    'https://CONSOLE.example', 'http://dash.example:8000',
                                    'https://other.example'])
def test_origins_accepted(origin):
    assert origin_rules.refusal(origin, HOSTS) is None


@pytest.mark.parametrize('origin,why', [
    ('http://evil.example', 'is not allowed'),
    ('http://console.example.evil.example', 'is not allowed'),
    ('null', "is not a web page's"),
    ('file://', "is not a web page's"),
    ('ftp://console.example', "is not a web page's"),
    ('http://[::1', "is not a web page's")])
def test_origins_refused(origin, why):
    assert why in origin_rules.refusal(origin, HOSTS)


def test_tokens_are_scrubbed_from_log_text():
    line = 'GET /?token=abc-DEF_123&x=1 HTTP/1.1 path=%3Ftoken%3Dsecret'
    assert novnc.scrub(line) == 'GET /?token=***&x=1 HTTP/1.1 path=%3Ftoken%3D***'


# -- the proxy ----------------------------------------------------------------------

class FakeDisplay:
    """A VNC server's first words (the RFB version banner), then an echo of
    what the client sends, for as many clients as come."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    @staticmethod
    def _client(conn):
        with conn:
            conn.sendall(BANNER)
            while data := conn.recv(4096):
                conn.sendall(data)


@pytest.fixture
def proxy():
    display = FakeDisplay()
    tokens = {'good': {'instance_uuid': 'i-1', 'console_type': 'novnc',
                       'compute_host': 'h1', 'host': '127.0.0.1', 'port': display.port}}
    seen = []

    def validate(token, console_type='serial'):
        seen.append(console_type)
        if token not in tokens:
            raise console_tokens.InvalidToken(reason='no such token')
        return tokens[token]
    p = novnc.NoVNCProxy('127.0.0.1', 0, 'http://127.0.0.1:6080/vnc_lite.html',
                         allowed_origins=['dash.example'], validate=validate)
    t = threading.Thread(target=p.serve_forever, daemon=True)
    t.start()
    yield types.SimpleNamespace(ws='ws://127.0.0.1:%d' % p.port,
                                http='http://127.0.0.1:%d' % p.port, seen=seen,
                                tokens=tokens)
    p.shutdown()
    t.join(timeout=5)
    display.sock.close()


@pytest.mark.parametrize('path', ['/', '/websockify'])
def test_proxy_carries_the_display(proxy, path):
    with ws_client.connect(proxy.ws + path + '?token=good', open_timeout=5) as ws:
        assert ws.recv(timeout=5) == BANNER
        ws.send(BANNER)
        assert ws.recv(timeout=5) == BANNER
    assert proxy.seen == ['novnc']


def test_proxy_takes_several_clients_at_once(proxy):
    with ws_client.connect(proxy.ws + '/?token=good', open_timeout=5) as one, \
            ws_client.connect(proxy.ws + '/?token=good', open_timeout=5) as two:
        assert one.recv(timeout=5) == BANNER and two.recv(timeout=5) == BANNER


@pytest.mark.parametrize('query', ['?token=bogus', '', '?token='])
def test_proxy_refuses_bad_tokens_before_the_handshake(proxy, query, caplog):
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(proxy.ws + '/' + query, open_timeout=5)
    assert e.value.response.status_code == 403
    assert 'no such token' in e.value.response.body.decode()
    assert 'Refused a VNC console connection' in caplog.text
    assert 'bogus' not in caplog.text


def test_proxy_checks_the_origin(proxy, caplog):
    url = proxy.ws + '/?token=good'
    for origin in ('http://evil.example', 'null'):
        with pytest.raises(ws_exc.InvalidStatus) as e:
            ws_client.connect(url, origin=origin, open_timeout=5)
        assert e.value.response.status_code == 403
        assert 'Origin' in e.value.response.body.decode()
    assert proxy.seen == []  # refused before the token was even looked at
    assert 'evil.example' in caplog.text
    for origin in ('http://127.0.0.1:6080', 'https://dash.example'):
        with ws_client.connect(url, origin=origin, open_timeout=5) as ws:
            assert ws.recv(timeout=5) == BANNER


def test_proxy_closes_when_the_display_is_gone(proxy):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        dead = s.getsockname()[1]
    proxy.tokens['dead'] = dict(proxy.tokens['good'], port=dead)
    with ws_client.connect(proxy.ws + '/?token=dead', open_timeout=5) as ws:
        with pytest.raises(ws_exc.ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1011
        assert 'cannot be reached' in ws.close_reason


def test_proxy_healthcheck(proxy):
    with urllib.request.urlopen(proxy.http + '/healthcheck', timeout=5) as r:
        assert r.status == 200 and r.read() == b'OK\n'


def test_proxy_serves_the_console_page_and_novnc(proxy):
    with urllib.request.urlopen(proxy.http + '/vnc_lite.html?path=%3Ftoken%3Dx',
                                timeout=5) as r:
        assert r.headers['Content-Type'].startswith('text/html')
        assert r.headers['Referrer-Policy'] == 'no-referrer'
        page = r.read().decode()
    assert "import RFB from './novnc/core/rfb.js'" in page
    with urllib.request.urlopen(proxy.http + '/novnc/core/rfb.js', timeout=5) as r:
        assert r.headers['Content-Type'].startswith('text/javascript')
        assert b'export default class RFB' in r.read()
    with urllib.request.urlopen(proxy.http + '/novnc/vendor/pako/lib/zlib/inflate.js',
                                timeout=5) as r:
        assert r.status == 200


@pytest.mark.parametrize('path', ['/', '/novnc/', '/novnc/core/', '/nope.html',
                                  '/../novnc.py', '/%2e%2e/novnc.py', '/../../setup.cfg'])
def test_proxy_serves_nothing_else(proxy, path):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(proxy.http + path, timeout=5)
    assert e.value.code == 404
