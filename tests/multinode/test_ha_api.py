"""Issue 15, test 2: the API copies behind HAProxy (devstack/lib/api_front.sh)
with token validations shared in memcached, and the keepalived virtual
address the front would listen on (devstack/lib/keepalived.sh).

Real processes only: two altostack-api copies of a LocalCloud, its HAProxy
front and memcached, openstacksdk clients; keepalived in namespaces."""

import collections
import http.server
import os
import shutil
import signal
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from keystoneauth1 import exceptions as ks_exc

from tests.fixtures.engines import devstack_lib
from tests.fixtures.engines import free_port
from tests.functional import cloud as cloud_mod

BURST = 2000
THREADS = 8
KILL_AFTER = 600  # requests done when copy 2 is killed


def _say(request, name, value):
    """A measured figure: in the report (-rA/--junitxml) and on stdout."""
    request.node.user_properties.append((name, value))
    print('\n%s: %s' % (name, value))


# -- the front's retry rules, against stand-in copies -----------------------
class _HangUp(http.server.BaseHTTPRequestHandler):
    """A copy that dies after it received a request: it answers its health
    check, reads anything else, counts it and closes without a word."""
    seen = None

    def _any(self):
        if self.path == '/healthcheck':
            self.send_response(200)
            self.send_header('Content-Length', '2')
            self.end_headers()
            self.wfile.write(b'OK')
            return
        length = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(length)
        self.seen[self.command] += 1
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(2)

    do_GET = do_POST = do_DELETE = _any

    def log_message(self, *args):
        pass


def _stand_in(seen):
    handler = type('HangUp', (_HangUp,), {'seen': seen})
    server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _status(url, method):
    req = urllib.request.Request(url, method=method, data=b'{}' if method == 'POST' else None)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _front_all_up(front_dir, names):
    import socket
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(front_dir, 'haproxy.sock'))
        s.sendall(b'show stat\n')
        data = b''
        while chunk := s.recv(65536):
            data += chunk
    up = {r.split(',')[1] for r in data.decode().splitlines()
          if r.startswith('altostack_api_copies,') and r.split(',')[17].startswith('UP')}
    return set(names) <= up


def test_the_front_retries_a_get_but_never_resends_a_post_a_copy_received():
    seen = collections.Counter()
    copies = [_stand_in(seen), _stand_in(seen)]
    front = tempfile.mkdtemp(prefix='altostack-front-')
    port = free_port()
    try:
        devstack_lib('api_front', 'altostack_api_front_write', front, '127.0.0.1', str(port),
                     *['api%d=127.0.0.1:%d' % (n, c.server_address[1])
                       for n, c in enumerate(copies, 1)])
        devstack_lib('api_front', 'altostack_api_front_up', front)
        for method, received in (('POST', 1), ('DELETE', 1), ('GET', 4)):
            deadline = time.monotonic() + 20
            while not _front_all_up(front, ['api1', 'api2']):
                assert time.monotonic() < deadline, 'the stand-ins never came up'
                time.sleep(0.1)
            seen.clear()
            assert _status('http://127.0.0.1:%d/compute/v2.1/os-keypairs' % port,
                           method) == 502
            # A POST or DELETE reached one copy and stayed there; a GET was
            # tried again (retries 3), on the other copy too.
            assert seen[method] == received, (method, dict(seen))
    finally:
        devstack_lib('api_front', 'altostack_api_front_down', front, check=False)
        shutil.rmtree(front, ignore_errors=True)
        for c in copies:
            c.shutdown()
            c.server_close()


# -- two real API copies behind the front, with memcached --------------------
@pytest.fixture(scope='module')
def ha_cloud():
    # Two workers per copy (not two per CPU): the machine runs other tests.
    with cloud_mod.LocalCloud(api_copies=2, extra_conf='[quota]\nkey_pairs = -1\n'
                              '[api]\nworkers = 2\n') as c:
        yield c


def _session():
    from keystoneauth1 import session
    return session.Session()


def _issue(url, user='demo', password=cloud_mod.DEMO_PASSWORD):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user, 'domain': {'id': 'default'}, 'password': password}}},
        'scope': {'project': {'name': user, 'domain': {'id': 'default'}}}}}
    r = _session().post(url + '/identity/v3/auth/tokens', json=body, authenticated=False)
    return r.headers['X-Subject-Token']


def _projects(url, token):
    return _session().get(url + '/identity/v3/auth/projects', authenticated=False,
                          headers={'X-Auth-Token': token}, raise_exc=False).status_code


def _validations(url):
    return _session().get(url + '/healthcheck', authenticated=False).json()[
        'token_validations']


def test_the_catalog_names_the_front(ha_cloud):
    conn = ha_cloud.sdk()
    url = conn.session.get_endpoint(service_type='compute', interface='public')
    assert ':%d/' % ha_cloud.api_port in url, url


def test_a_token_checked_by_one_copy_is_served_from_memcached_by_the_other(ha_cloud):
    a, b = ['http://127.0.0.1:%d' % p for p in ha_cloud.api_copy_ports]
    token = _issue(a)  # copy A validates what it issues: the entry is made
    before = _validations(b)
    assert _projects(b, token) == 200
    after = _validations(b)
    assert after['shared_hits'] - before['shared_hits'] == 1, (before, after)
    assert after['shared_misses'] == before['shared_misses']
    assert after['database'] == before['database']


def test_a_revoked_token_fails_on_both_copies_at_once(ha_cloud):
    a, b = ['http://127.0.0.1:%d' % p for p in ha_cloud.api_copy_ports]
    admin = _issue(a, 'admin', cloud_mod.ADMIN_PASSWORD)
    token = _issue(b)
    assert _projects(a, token) == 200 and _projects(b, token) == 200  # cached on both
    r = _session().delete(a + '/identity/v3/auth/tokens', authenticated=False,
                          headers={'X-Auth-Token': admin, 'X-Subject-Token': token})
    assert r.status_code == 204
    assert _projects(b, token) == 401
    assert _projects(a, token) == 401
    assert _projects(b, admin) == 200


def _public_key():
    return ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _error(exc):
    """A clear error: an HTTP status with a message, or a named transport
    failure; None for anything else."""
    code = getattr(exc, 'status_code', None)
    if code:
        return '%d %s' % (code, str(exc)[:120])
    if isinstance(exc, ks_exc.ClientException):
        return '%s %s' % (type(exc).__name__, str(exc)[:120])
    return None


def test_killing_a_copy_mid_burst_fails_no_get_and_duplicates_no_post(ha_cloud, request):
    tag = uuid.uuid4().hex[:6]
    key = _public_key()
    conns = [ha_cloud.sdk() for _ in range(THREADS)]
    for c in conns:
        c.authorize()
    stable = conns[0].compute.create_keypair(name='ha-%s-stable' % tag, public_key=key)
    flavor = next(iter(conns[0].compute.flavors()))
    lock = threading.Lock()
    done = [0]
    killed = threading.Event()
    gets = collections.Counter()
    failed_gets = []
    posts = {}  # name -> 'ok' or the error
    deletes = {}
    strange = []

    def tick():
        with lock:
            done[0] += 1
            return done[0]

    def worker(n, conn):
        mine = []
        for i in range(BURST // THREADS):
            kind = ('get', 'post', 'get', 'delete', 'get', 'post', 'get', 'get')[i % 8]
            if kind == 'delete' and not mine:
                kind = 'get'
            try:
                if kind == 'get':
                    what = ('keypairs', 'flavors', 'flavor', 'keypair', 'projects')[i % 5]
                    try:
                        if what == 'keypairs':
                            list(conn.compute.keypairs())
                        elif what == 'flavors':
                            list(conn.compute.flavors())
                        elif what == 'flavor':
                            conn.compute.get_flavor(flavor.id)
                        elif what == 'keypair':
                            conn.compute.get_keypair(stable.name)
                        else:
                            list(conn.identity.projects())
                        gets[what] += 1
                    except Exception as e:  # noqa: BLE001 - every failure is counted
                        failed_gets.append('%s: %r' % (what, e))
                elif kind == 'post':
                    name = 'ha-%s-%d-%d' % (tag, n, i)
                    try:
                        conn.compute.create_keypair(name=name, public_key=key)
                        posts[name] = 'ok'
                        mine.append(name)
                    except Exception as e:  # noqa: BLE001
                        posts[name] = _error(e) or strange.append(repr(e)) or 'unclear'
                else:
                    name = mine.pop(0)
                    try:
                        conn.compute.delete_keypair(name, ignore_missing=False)
                        deletes[name] = 'ok'
                    except Exception as e:  # noqa: BLE001
                        deletes[name] = _error(e) or strange.append(repr(e)) or 'unclear'
            finally:
                if tick() == KILL_AFTER:
                    killed.set()

    detection = {}

    def killer():
        killed.wait()
        started = time.monotonic()
        ha_cloud.kill_service(ha_cloud.api_copy_name(2), signal.SIGKILL, group=True)
        while ha_cloud.front_status().get('api2') == 'UP':
            if time.monotonic() - started > 60:
                return  # detection stays unset: the test fails below
            time.sleep(0.02)
        detection['seconds'] = time.monotonic() - started

    threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(conns)]
    threads.append(threading.Thread(target=killer))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    elapsed = time.monotonic() - started
    assert killed.is_set() and 'seconds' in detection

    _say(request, 'burst', '%d requests in %.1f s (%d GETs, %d POSTs, %d DELETEs)' % (
        done[0], elapsed, sum(gets.values()) + len(failed_gets), len(posts), len(deletes)))
    _say(request, 'front stopped sending to the killed copy after', '%.2f s' % (
        detection['seconds']))
    failed_posts = {k: v for k, v in posts.items() if v != 'ok'}
    failed_deletes = {k: v for k, v in deletes.items() if v != 'ok'}
    _say(request, 'failed POSTs', failed_posts)
    _say(request, 'failed DELETEs', failed_deletes)
    assert done[0] == BURST
    assert detection['seconds'] < 5
    assert failed_gets == []
    assert strange == []

    names = collections.Counter(k.name for k in conns[0].compute.keypairs())
    assert all(count == 1 for count in names.values()), 'duplicates: %s' % {
        n: c for n, c in names.items() if c > 1}
    for name, result in posts.items():
        if deletes.get(name) == 'ok':
            assert name not in names, '%s was deleted but is listed' % name
        elif result == 'ok' and name not in deletes:
            assert names[name] == 1, '%s was created but is not listed' % name
    # The front says the copy is gone, the other copy still serves.
    assert ha_cloud.front_status() == {'api1': 'UP', 'api2': 'DOWN'}


# -- keepalived: the virtual address moves when its holder dies ---------------
def _ip(*argv, check=True):
    return subprocess.run(['ip', *argv], check=check, capture_output=True, text=True,
                          timeout=30)


@pytest.fixture
def vrrp_net():
    """Three namespaces (two keepalived peers and a client) on a bridge of
    their own; gone afterwards."""
    tag = uuid.uuid4().hex[:6]
    subnet = cloud_mod.free_hosts_subnet()
    bridge = 'akb%s' % tag
    names = {n: 'altostack-%s-vrrp%s' % (tag, n) for n in ('1', '2', 'c')}
    workdir = tempfile.mkdtemp(prefix='altostack-vrrp-')
    try:
        _ip('link', 'add', bridge, 'type', 'bridge')
        _ip('link', 'set', bridge, 'up')
        for i, (n, ns) in enumerate(names.items(), 1):
            _ip('netns', 'add', ns)
            _ip('link', 'add', 'akv%s%s' % (tag, n), 'type', 'veth', 'peer', 'name', 'eth0',
                'netns', ns)
            _ip('link', 'set', 'akv%s%s' % (tag, n), 'master', bridge, 'up')
            _ip('-n', ns, 'link', 'set', 'lo', 'up')
            _ip('-n', ns, 'link', 'set', 'eth0', 'up')
            _ip('-n', ns, 'addr', 'add', '%s.%d/24' % (subnet, i), 'dev', 'eth0')
        yield {'tag': tag, 'subnet': subnet, 'ns': names, 'dir': workdir}
    finally:
        for n in ('1', '2'):
            devstack_lib('keepalived', 'altostack_keepalived_down',
                         os.path.join(workdir, n), check=False)
        for ns in names.values():
            _ip('netns', 'del', ns, check=False)
        _ip('link', 'del', bridge, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def _holds(ns, vip):
    return ' %s/' % vip in _ip('-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0').stdout


def _wait(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(step)


def test_keepalived_moves_the_virtual_address_when_its_holder_dies(vrrp_net, request):
    subnet, ns, tag = vrrp_net['subnet'], vrrp_net['ns'], vrrp_net['tag']
    vip = '%s.100' % subnet
    addr = {'1': '%s.1' % subnet, '2': '%s.2' % subnet}
    for n, prio, peer in (('1', 150, '2'), ('2', 100, '1')):
        d = os.path.join(vrrp_net['dir'], n)
        devstack_lib('keepalived', 'altostack_keepalived_write', d, tag, 'eth0',
                     vip + '/24', '51', str(prio), addr[n], addr[peer])
        devstack_lib('keepalived', 'altostack_keepalived_up', d, ns[n])
    _wait(lambda: _holds(ns['1'], vip), 20)
    assert not _holds(ns['2'], vip)
    ping = ['ip', 'netns', 'exec', ns['c'], 'ping', '-c', '1', '-W', '1', vip]
    assert subprocess.run(ping, capture_output=True).returncode == 0

    pids = devstack_lib('keepalived', 'altostack_keepalived_pids',
                        os.path.join(vrrp_net['dir'], '1')).stdout.split()
    assert len(pids) == 2
    started = time.monotonic()
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    _wait(lambda: _holds(ns['2'], vip), 20, step=0.02)
    moved = time.monotonic() - started
    _say(request, 'virtual address moved after', '%.2f s' % moved)
    # The client now reaches the new holder (its gratuitous ARPs won).
    mac2 = _ip('-n', ns['2'], '-o', 'link', 'show', 'eth0').stdout.split('link/ether ')[1][:17]
    _wait(lambda: subprocess.run(ping, capture_output=True).returncode == 0 and mac2 in _ip(
        '-n', ns['c'], 'neigh', 'show', vip).stdout, 10, step=0.2)
    assert moved < 8
