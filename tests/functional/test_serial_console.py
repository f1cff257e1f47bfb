"""The serial console of a real guest, end to end: the openstack CLI asks for
a console URL, a websocket client connects through altostack-serialproxy
and drives the guest's shell."""

import datetime
import urllib.parse

import pytest
import sqlalchemy as sa
from websockets import exceptions as ws_exc

from common.db import console_models as conm
from tests.fixtures.console import connect
from tests.fixtures.console import read_until
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server


@pytest.fixture(scope='module')
def server(cloud, image):
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.tiny', '--nic', 'none', '--wait', 'console-vm', cloud='demo',
                          json_out=True)
    assert srv['status'] == 'ACTIVE'
    wait_console(cloud, 'console-vm', 'ALTOSTACK-READY')
    yield srv
    cloud.openstack('server', 'delete', '--wait', srv['id'], cloud='demo', check=False)


def test_serial_console_shell(cloud, server):
    con = cloud.openstack('console', 'url', 'show', '--serial', 'console-vm', cloud='demo',
                          json_out=True)
    assert (con['protocol'], con['type']) == ('serial', 'serial')
    url = con['url']
    assert url.startswith('ws://127.0.0.1:%d/?token=' % cloud.serialproxy_port)
    with connect(url) as ws:
        assert ws.subprotocol == 'binary'
        ws.send(b'\n')
        # The guest echoes input: the marker must not be in the command line.
        ws.send(b'echo HELLO$((6*7))\n')
        read_until(ws, b'HELLO42')
        # qemu's socket takes one client: a second one is told why it is closed.
        with connect(url) as second:
            with pytest.raises(ws_exc.ConnectionClosed):
                second.recv(timeout=10)
            assert second.close_code == 1013
            assert 'in use by another client' in second.close_reason
        ws.send(b'echo AGAIN$((40+2))\n')
        read_until(ws, b'AGAIN42')
    # The token is good until it expires: a new session works once the first ended.
    with connect(url) as ws:
        ws.send(b'echo BACK$((6*7))\n')
        read_until(ws, b'BACK42')


def test_bogus_and_expired_tokens_are_refused(cloud, server):
    url = cloud.openstack('console', 'url', 'show', '--serial', 'console-vm', cloud='demo',
                          json_out=True)['url']
    base = url.split('?')[0]
    for bad in (base + '?token=bogus', base):
        with pytest.raises(ws_exc.InvalidStatus) as e:
            connect(bad)
        assert e.value.response.status_code == 403
    # Expire every token of this cloud, as time would.
    engine = sa.create_engine(cloud.db.url)
    with engine.begin() as conn:
        conn.execute(sa.update(conm.ConsoleAuthToken).values(
            expires=datetime.datetime(2000, 1, 1)))
    engine.dispose()
    with pytest.raises(ws_exc.InvalidStatus) as e:
        connect(url)
    assert e.value.response.status_code == 403
    assert 'expired' in e.value.response.body.decode()
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)['token'][0]
    assert token not in cloud.log_tail('serialproxy', lines=200)


def test_legacy_action_and_other_types(cloud, server):
    # Before 2.6 the client uses the os-getSerialConsole action.
    con = cloud.openstack('--os-compute-api-version', '2.1', 'console', 'url', 'show',
                          '--serial', 'console-vm', cloud='demo', json_out=True)
    with connect(con['url']) as ws:
        ws.send(b'echo OLD$((6*7))\n')
        read_until(ws, b'OLD42')
    # SPICE is not offered here, and the error says what is.
    r = cloud.openstack('console', 'url', 'show', '--spice', 'console-vm', cloud='demo',
                        check=False)
    assert r.returncode != 0
    assert 'Unavailable console type spice-html5. Console types available: novnc, serial' \
        in r.stderr, r.stderr


def test_stopped_server_has_no_console(cloud, server):
    cloud.openstack('server', 'stop', 'console-vm', cloud='demo')
    wait_server(cloud.sdk('demo'), server['id'], {'SHUTOFF'})
    r = cloud.openstack('console', 'url', 'show', '--serial', 'console-vm', cloud='demo',
                        check=False)
    assert r.returncode != 0 and 'is not ready' in r.stderr, r.stderr
