"""The noVNC console of a real guest, end to end: the openstack CLI asks for
a console URL, the console page comes from altostack-novncproxy, and a
websocket client goes through the proxy to the guest's VNC display (the
RFB handshake up to the display's name, which qemu takes from the domain)."""

import datetime
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa
from websockets import exceptions as ws_exc
from websockets.sync import client as ws_client

from common.db import console_models as conm
from tests.fixtures.console import novnc_websocket
from tests.fixtures.console import rfb_handshake
from tests.fixtures.servers import wait_server


@pytest.fixture(scope='module')
def server(cloud, image):
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.tiny', '--nic', 'none', '--wait', 'vnc-vm', cloud='demo',
                          json_out=True)
    assert srv['status'] == 'ACTIVE'
    yield srv
    cloud.openstack('server', 'delete', '--wait', srv['id'], cloud='demo', check=False)


def _origin(cloud):
    return 'http://127.0.0.1:%d' % cloud.novncproxy_port


def test_novnc_url_page_and_display(cloud, server):
    con = cloud.openstack('console', 'url', 'show', '--novnc', 'vnc-vm', cloud='demo',
                          json_out=True)
    assert (con['protocol'], con['type']) == ('vnc', 'novnc')
    url = con['url']
    assert url.startswith('%s/vnc_lite.html?path=%%3Ftoken%%3D' % _origin(cloud)), url
    # The page a browser gets at that URL, and the library it loads.
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers['Content-Type'].startswith('text/html')
        assert "from './novnc/core/rfb.js'" in r.read().decode()
    with urllib.request.urlopen(_origin(cloud) + '/novnc/core/rfb.js', timeout=10) as r:
        assert r.status == 200
    # The websocket the page opens (as a browser would: with its Origin)
    # reaches this server's display.
    with ws_client.connect(novnc_websocket(url), origin=_origin(cloud),
                           open_timeout=10) as ws:
        display = rfb_handshake(ws)
    assert display['version'] == 'RFB 003.008'
    assert display['name'] == 'QEMU (altostack-%s)' % server['id'], display
    assert display['width'] >= 640 and display['height'] >= 200, display
    # The token is good until it expires: again, at the path noVNC's own
    # pages use, and by a client that sends no Origin.
    with ws_client.connect(novnc_websocket(url, path='/'), open_timeout=10) as ws:
        assert rfb_handshake(ws)['name'].endswith(server['id'] + ')')
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(
        novnc_websocket(url)).query)['token'][0]
    assert token not in cloud.log_tail('novncproxy', lines=400)


def test_legacy_action_and_the_clients_default(cloud, server):
    # Before 2.6 the client uses the os-getVNCConsole action.
    con = cloud.openstack('--os-compute-api-version', '2.1', 'console', 'url', 'show',
                          '--novnc', 'vnc-vm', cloud='demo', json_out=True)
    assert con['type'] == 'novnc'
    with ws_client.connect(novnc_websocket(con['url']), open_timeout=10) as ws:
        assert rfb_handshake(ws)['name'] == 'QEMU (altostack-%s)' % server['id']
    # noVNC is the client's default type.
    con = cloud.openstack('console', 'url', 'show', 'vnc-vm', cloud='demo', json_out=True)
    assert con['type'] == 'novnc'
    # xvpvnc is not offered, and the error says what is.
    r = cloud.openstack('console', 'url', 'show', '--xvpvnc', 'vnc-vm', cloud='demo',
                        check=False)
    assert r.returncode != 0
    assert 'Unavailable console type xvpvnc. Console types available: novnc, serial' \
        in r.stderr, r.stderr


def test_bad_tokens_and_foreign_origins_are_refused(cloud, server):
    url = cloud.openstack('console', 'url', 'show', '--novnc', 'vnc-vm', cloud='demo',
                          json_out=True)['url']
    good = novnc_websocket(url)
    base = good.split('?')[0]
    for bad in (base + '?token=bogus', base):
        with pytest.raises(ws_exc.InvalidStatus) as e:
            ws_client.connect(bad, open_timeout=10)
        assert e.value.response.status_code == 403
    # A serial console's token opens no VNC display.
    serial = cloud.openstack('console', 'url', 'show', '--serial', 'vnc-vm', cloud='demo',
                             json_out=True)['url']
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(base + '?' + urllib.parse.urlsplit(serial).query, open_timeout=10)
    assert e.value.response.status_code == 403
    assert 'for a serial console' in e.value.response.body.decode()
    # A page of another site cannot use the URL.
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(good, origin='http://evil.example', open_timeout=10)
    assert e.value.response.status_code == 403
    assert 'Origin' in e.value.response.body.decode()
    assert 'evil.example' in cloud.log_tail('novncproxy', lines=200)
    # Expire every token of this cloud, as time would.
    engine = sa.create_engine(cloud.db.url)
    with engine.begin() as conn:
        conn.execute(sa.update(conm.ConsoleAuthToken).values(
            expires=datetime.datetime(2000, 1, 1)))
    engine.dispose()
    with pytest.raises(ws_exc.InvalidStatus) as e:
        ws_client.connect(good, origin=_origin(cloud), open_timeout=10)
    assert e.value.response.status_code == 403
    assert 'expired' in e.value.response.body.decode()


def test_stopped_server_has_no_console(cloud, server):
    cloud.openstack('server', 'stop', 'vnc-vm', cloud='demo')
    wait_server(cloud.sdk('demo'), server['id'], {'SHUTOFF'})
    r = cloud.openstack('console', 'url', 'show', '--novnc', 'vnc-vm', cloud='demo',
                        check=False)
    assert r.returncode != 0 and 'is not ready' in r.stderr, r.stderr
    # Started again, the display is back (libvirt may give it another port).
    cloud.openstack('server', 'start', 'vnc-vm', cloud='demo')
    wait_server(cloud.sdk('demo'), server['id'], {'ACTIVE'})
    url = cloud.openstack('console', 'url', 'show', '--novnc', 'vnc-vm', cloud='demo',
                          json_out=True)['url']
    with ws_client.connect(novnc_websocket(url), open_timeout=10) as ws:
        assert rfb_handshake(ws)['name'] == 'QEMU (altostack-%s)' % server['id']
