"""A real all-in-one Altostack for tests and benchmarks: five service
processes on a real RabbitMQ (a vhost of their own), a real database, the
real openstack CLI and openstacksdk as clients; and the console proxies,
serial and noVNC (no service record: each is healthy when it answers
/healthcheck).

    with LocalCloud() as cloud:
        cloud.openstack('token', 'issue')
"""

import concurrent.futures
import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

import yaml

from tests.fixtures.engines import Memcached
from tests.fixtures.engines import devstack_lib
from tests.fixtures.engines import haproxy_stat
from tests.functional import cli_fork

SERVICES = ('api', 'scheduler', 'conductor', 'compute', 'volume', 'image')
BINARIES = {'api': 'altostack-api', 'scheduler': 'nova-scheduler',
            'conductor': 'nova-conductor', 'compute': 'nova-compute',
            'volume': 'cinder-volume', 'image': 'altostack-image'}
# Started too, but they keep no service record.
PROXIES = ('serialproxy', 'novncproxy')
# Module (or module:function) to run when the console script is not
# installed in the venv (a branch newer than the venv's install);
# altostack-manage always runs its module (an installed script may name
# another checkout's).
MODULES = {'serialproxy': 'consoleproxy.cmd', 'novncproxy': 'consoleproxy.cmd:novnc_main',
           'conductor': 'conductor.cmd', 'manage': 'cli.manage', 'dashboard': 'dashboard.cmd'}
BIN = os.path.dirname(sys.executable)
ADMIN_PASSWORD = 'admin-secret'
DEMO_PASSWORD = 'demo-secret'
RABBIT = os.environ.get('ALTOSTACK_TEST_RABBIT', 'guest:guest@127.0.0.1:5672')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST_IMAGE_DIR = os.environ.get('ALTOSTACK_TEST_IMAGE_DIR', '/var/cache/altostack/guest-image')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _checkout_env():
    """The environment that runs modules from this checkout, which the
    venv's install may not know."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get('PYTHONPATH')) if p))


def _rabbitmqctl(*args):
    return subprocess.run(['rabbitmqctl', '-q', *args], capture_output=True, text=True,
                          timeout=60)


def _free_24(prefix, thirds, what):
    """A ``prefix``.N.0/24 (N from ``thirds``, in random order) that no route
    of this machine covers: several test clouds and a devstack may share it."""
    import ipaddress
    import random
    out = subprocess.run(['ip', '-4', 'route', 'show', 'table', 'all'], capture_output=True,
                         text=True).stdout
    taken = []
    for line in out.splitlines():
        dest = line.split()[0] if line.split() else ''
        if dest[:1].isdigit():
            with contextlib.suppress(ValueError):
                taken.append(ipaddress.ip_network(dest, strict=False))
    for third in random.sample(thirds, len(thirds)):
        net = ipaddress.ip_network('%s.%d.0/24' % (prefix, third))
        if not any(net.overlaps(t) for t in taken if t.prefixlen > 0):
            return net
    raise RuntimeError('no free %s.N.0/24 for %s' % (prefix, what))


def free_public_cidr():
    """A 172.24.N.0/24 for this cloud's external network."""
    return str(_free_24('172.24', range(16, 250), "a test cloud's external network"))


def free_hosts_subnet():
    """The first three octets of a 10.250.N.0/24 for the network between
    this cloud's compute hosts."""
    return str(_free_24('10.250', range(1, 255), "the hosts of a test cloud")
               .network_address).rsplit('.', 1)[0]


DB_PORTS = {'mysql': 3306, 'postgresql': 5432}
# The tests' own login on the database servers (devstack/lib/testdbs.sh
# makes it; ./run_tests.sh starts the servers).
DB_LOGIN = '%s:%s' % (os.environ.get('ALTOSTACK_TESTDB_USER', 'altostack_test'),
                      os.environ.get('ALTOSTACK_TESTDB_PASSWORD', 'altostack_test'))


def skip_unless_db_server(kind):
    """Skip the calling test when no server of ``kind`` answers on loopback."""
    import pytest
    try:
        socket.create_connection(('127.0.0.1', DB_PORTS[kind]), timeout=1).close()
    except OSError:
        pytest.skip('no %s server on 127.0.0.1:%d' % (kind, DB_PORTS[kind]))


class Database:
    """A fresh database per cloud: sqlite (default), mysql or postgresql; or
    an SQLAlchemy URL of an empty database that someone else made and
    removes (a Galera cluster's front, devstack/lib/galera.sh)."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.name = 'altostack_test_%s' % uuid.uuid4().hex[:10]
        self.given = '://' in kind
        if self.given:
            self.url = kind
            self.kind = kind.split(':', 1)[0].split('+', 1)[0]
        elif kind == 'sqlite':
            self.url = 'sqlite:///%s/altostack.sqlite' % workdir
        elif kind == 'mysql':
            self.url = 'mysql+pymysql://%s@127.0.0.1/%s' % (DB_LOGIN, self.name)
        elif kind == 'postgresql':
            self.url = 'postgresql+psycopg2://%s@127.0.0.1/%s' % (DB_LOGIN, self.name)
        else:
            raise ValueError(kind)

    def _admin(self, sql):
        import sqlalchemy as sa
        base = {'mysql': 'mysql+pymysql://%s@127.0.0.1/' % DB_LOGIN,
                'postgresql': 'postgresql+psycopg2://%s@127.0.0.1/postgres' % DB_LOGIN}[self.kind]
        eng = sa.create_engine(base, isolation_level='AUTOCOMMIT')
        with eng.connect() as conn:
            conn.exec_driver_sql(sql)
        eng.dispose()

    def create(self):
        if self.kind != 'sqlite' and not self.given:
            self._admin('CREATE DATABASE %s' % self.name)

    def drop(self):
        if self.kind != 'sqlite' and not self.given:
            self._admin('DROP DATABASE IF EXISTS %s' % self.name)


def _each(fn, items):
    """fn(item) for every item at once, in threads; the first error raised
    once all have ended."""
    with concurrent.futures.ThreadPoolExecutor(max(1, len(items))) as pool:
        for future in [pool.submit(fn, item) for item in items]:
            future.result()


def _terminate(procs, seconds=15):
    """SIGTERM to every process at once, then each given what is left of
    ``seconds`` before SIGKILL: they wind down side by side."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LocalCloud:
    """``db``: 'sqlite', 'mysql', 'postgresql' or the URL of an empty
    database (see Database).

    ``extra_hosts`` K > 0 adds compute hosts 2 .. K+1, each in its own
    namespaces with its own libvirtd and agent (devstack/lib/hosts.sh, the
    same functions stack.sh uses); host 1 is the all-in-one.

    ``compute_venv``: a venv whose altostack-compute runs host 1's agent
    instead of this checkout's (another release's, for a rolling upgrade);
    it runs without PYTHONPATH, so this checkout stays out of it.

    ``private_hosts`` P > 0 makes hosts K+2 .. K+P+1 as private nodes
    (hosts.sh "private": own /etc/altostack, /var/lib/altostack, /run and
    libvirt state; this cloud's folder hidden) with nothing running but
    their libvirtd: they join with `altostack-node join` (``node_join``).
    They reach the broker and the image service at host 1's address on the
    hosts' network, which the join tokens name ([node_join]).

    ``api_copies`` K > 1 runs K altostack-api processes (each its own port,
    the same configuration otherwise) behind an HAProxy front
    (devstack/lib/api_front.sh) whose port is ``api_port``, the one the
    catalog and the clients use; ``token_cache`` (by default on with
    several copies) gives them a memcached of the cloud's own to share
    token validations in ([cache]).

    ``transport``: the bus to use instead of a vhost of its own on the
    machine's broker: an object with ``url`` (the transport_url, every
    node of a cluster in it) and ``options`` ({name: value} of
    ``[oslo_messaging_rabbit]``), e.g. tests/fixtures/rabbit_cluster.py's
    RabbitCluster; its owner makes and removes its vhost."""

    def __init__(self, db='sqlite', report_interval=1, service_down_time=4, extra_conf='',
                 password_hash_rounds=20000, extra_hosts=0, compute_venv=None,
                 dashboard=False, private_hosts=0, api_copies=1, token_cache=None,
                 rabbit=None, compute=True, transport=None):
        # ``rabbit``: a broker of the test's own (tests/fixtures/rabbit_node.py
        # RabbitNode) instead of the machine's; ``compute=False``: no agent of
        # host 1 (simulated agents stand in for it: tests/fixtures/sim_computes.py).
        self.rabbit = rabbit
        self.rabbit_url = rabbit.url if rabbit else RABBIT
        self.with_compute = compute
        self.workdir = tempfile.mkdtemp(prefix='altostack-test-')
        self.db = Database(db, self.workdir)
        self.transport = transport
        self.vhost = 'altostack-test-%s' % uuid.uuid4().hex[:10]
        self.transport_url = (transport.url if transport else
                              'rabbit://%s/%s' % (self.rabbit_url, self.vhost))
        self.api_port = free_port()
        self.api_copies = api_copies
        self.api_copy_ports = ([self.api_port] if api_copies == 1
                               else [free_port() for _ in range(api_copies)])
        self.front_dir = os.path.join(self.workdir, 'api-front')
        self.token_cache = api_copies > 1 if token_cache is None else token_cache
        self.memcached = Memcached() if self.token_cache else None
        self.image_port = free_port()
        self.serialproxy_port = free_port()
        self.novncproxy_port = free_port()
        self.host = 'testhost-%s' % uuid.uuid4().hex[:6]
        self.procs = {}
        self.conf_path = os.path.join(self.workdir, 'altostack.conf')
        self.clouds_path = os.path.join(self.workdir, 'clouds.yaml')
        self.report_interval = report_interval
        self.service_down_time = service_down_time
        self.extra_conf = extra_conf
        self.password_hash_rounds = password_hash_rounds
        self.auth_url = 'http://127.0.0.1:%d/identity/v3' % self.api_port
        self.public_cidr = free_public_cidr()
        self.extra_hosts = extra_hosts
        self.hosts_id = uuid.uuid4().hex[:6]
        self.private_hosts = private_hosts
        self.hosts_subnet = free_hosts_subnet() if extra_hosts or private_hosts else None
        self.hosts_up = []
        self.private_up = []
        self.host_seconds = {}
        self.compute_venv = compute_venv
        # The web dashboard (a client of the public APIs) when asked for.
        self.dashboard = dashboard
        self.dashboard_port = free_port()
        self.dashboard_url = 'http://127.0.0.1:%d' % self.dashboard_port

    # -- set-up -----------------------------------------------------------
    def _write_conf(self):
        # With extra hosts, host 1's my_ip is its address on the hosts'
        # network (VXLAN peers reach it there), and the volumes' NBD
        # exports listen there too (the other hosts' guests connect to it);
        # the image URLs stay on loopback, which the hosts reach through
        # their forwarders.
        my_ip = '%s.1' % self.hosts_subnet if self.hosts_subnet else '127.0.0.1'
        # Host 1's end of the external wire (hosts.sh), so the other hosts'
        # floating IPs are reached through its external bridge.
        wire = 'external_interface = ahe-%s\n' % self.hosts_id if self.extra_hosts else ''
        front = 'public_port = %d\n' % self.api_port if self.api_copies > 1 else ''
        cache = ('[cache]\nenabled = true\nmemcache_servers = %s\n' % self.memcached.server
                 if self.memcached else '')
        # Private nodes have no loopback forwarder: the signed image URLs
        # and the join tokens name host 1's address on the hosts' network.
        image_host = my_ip if self.private_hosts else '127.0.0.1'
        join = ('[node_join]\ncontroller_addresses = %s\nbus_port = %s\n'
                % (my_ip, self._rabbit_port())) if self.private_hosts else ''
        with open(self.conf_path, 'w') as f:
            f.write(f"""[DEFAULT]
host = {self.host}
my_ip = {my_ip}
state_path = {self.workdir}/state
transport_url = {self.transport_url}
report_interval = {self.report_interval}
service_down_time = {self.service_down_time}
rpc_call_timeout = 20
debug = false
[database]
connection = {self.db.url}
[api]
bind_host = 127.0.0.1
bind_port = {self.api_copy_ports[0]}
public_host = 127.0.0.1
{front}[image]
bind_host = 127.0.0.1
bind_port = {self.image_port}
public_host = {image_host}
[serial_console]
serialproxy_host = 127.0.0.1
serialproxy_port = {self.serialproxy_port}
base_url = ws://127.0.0.1:{self.serialproxy_port}/
[vnc]
novncproxy_host = 127.0.0.1
novncproxy_port = {self.novncproxy_port}
novncproxy_base_url = http://127.0.0.1:{self.novncproxy_port}/vnc_lite.html
[identity]
password_hash_rounds = {self.password_hash_rounds}
[dashboard]
bind_host = 127.0.0.1
bind_port = {self.dashboard_port}
auth_url = {self.auth_url}
state_path = {self.workdir}/dashboard
[compute]
instances_path = {self.workdir}/instances
shutdown_timeout = 15
[network]
public_cidr = {self.public_cidr}
{wire}[volume]
nbd_bind_host = {my_ip}
{cache}{join}{self._rabbit_conf()}{self.extra_conf}
""")
        clouds = {'clouds': {
            'altostack-%s' % who: {
                'auth': {'auth_url': self.auth_url, 'username': who, 'password': pw,
                         'project_name': who, 'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'region_name': 'RegionOne', 'identity_api_version': 3}
            for who, pw in (('admin', ADMIN_PASSWORD), ('demo', DEMO_PASSWORD))}}
        with open(self.clouds_path, 'w') as f:
            yaml.safe_dump(clouds, f)

    def _rabbit_conf(self):
        options = self.transport.options if self.transport else {}
        if not options:
            return ''
        return '[oslo_messaging_rabbit]\n%s\n' % ''.join(
            '%s = %s\n' % (k, str(v).lower() if isinstance(v, bool) else v)
            for k, v in sorted(options.items()))

    def broker_ports(self):
        """The broker ports of the transport_url (every node of a cluster)."""
        import oslo_messaging as messaging
        from oslo_config import cfg
        url = messaging.TransportURL.parse(cfg.ConfigOpts(), self.transport_url)
        return [h.port or 5672 for h in url.hosts]

    def manage(self, *args, check=True):
        """altostack-manage's stdout; without check, the CompletedProcess.
        (`node add` runs rabbitmqctl, which may wait up to 120 s on a busy
        broker: in one CI run it held `node add` past 120 s.)"""
        r = subprocess.run([sys.executable, '-m', MODULES['manage'], '--config-file',
                            self.conf_path, *args], capture_output=True, text=True,
                           check=check, timeout=300, env=_checkout_env())
        return r.stdout if check else r

    # -- API copies and their front (devstack/lib/api_front.sh) -------------
    def api_copy_name(self, n):
        """The process name of API copy N (1 is the cloud's 'api')."""
        return 'api' if n == 1 else 'api%d' % n

    def _write_copy_conf(self, n):
        """What copy N changes in the configuration: its port, and its host
        name (its own service record)."""
        path = os.path.join(self.workdir, 'api%d.conf' % n)
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nhost = %s-api%d\n[api]\nbind_port = %d\n'
                    % (self.host, n, self.api_copy_ports[n - 1]))
        return path

    def front_sh(self, *argv):
        return devstack_lib('api_front', *argv)

    def _front_up(self):
        self.front_sh('altostack_api_front_write', self.front_dir, '127.0.0.1',
                      str(self.api_port), *['api%d=127.0.0.1:%d' % (n, port) for n, port
                                            in enumerate(self.api_copy_ports, 1)])
        self.front_sh('altostack_api_front_up', self.front_dir)

    def front_status(self):
        """{'api1': 'UP', ...}: what the front thinks of each copy now."""
        return {server: status for proxy, server, status
                in haproxy_stat(os.path.join(self.front_dir, 'haproxy.sock'))
                if proxy == 'altostack_api_copies'}

    def _command(self, name):
        if name == 'compute' and self.compute_venv:
            return [os.path.join(self.compute_venv, 'bin', 'altostack-compute')]
        script = os.path.join(BIN, 'altostack-%s' % name)
        if name in MODULES and not os.path.exists(script):
            module, _, func = MODULES[name].partition(':')
            if func:
                return [sys.executable, '-c', 'import sys; from %s import %s; '
                        'sys.exit(%s())' % (module, func, func)]
            return [sys.executable, '-m', module]
        return [script]

    def start_service(self, name):
        log = open(os.path.join(self.workdir, '%s.out' % name), 'ab')
        copy = name[3:] if name.startswith('api') and name[3:].isdigit() else None
        cmd, env = self._command('api' if copy else name), None
        # A copy's own file comes last: it overrides the cloud's.
        own = ['--config-file', self._write_copy_conf(int(copy))] if copy else []
        if cmd[0] == sys.executable:
            env = _checkout_env()
        elif name == 'compute' and self.compute_venv:
            env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        self.procs[name] = subprocess.Popen(
            cmd + ['--config-file', self.conf_path, *own,
                   '--log-file', os.path.join(self.workdir, '%s.log' % name)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        log.close()

    def kill_service(self, name, sig=signal.SIGKILL, group=False):
        """Signal a service; ``group``: its whole process group (a service
        with forked workers, as when its machine is lost)."""
        proc = self.procs.pop(name)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        return proc.wait(timeout=30)

    def _ctl(self, *args):
        return self.rabbit.ctl(*args) if self.rabbit else _rabbitmqctl(*args)

    def services_started(self):
        """The services this cloud runs (host 1's agent unless compute=False)."""
        return tuple(s for s in SERVICES if self.with_compute or s != 'compute')

    def start(self):
        if not self.transport:
            r = self._ctl('add_vhost', self.vhost)
            if r.returncode != 0:
                raise RuntimeError('cannot make a RabbitMQ vhost: %s' % r.stderr)
            self._ctl('set_permissions', '-p', self.vhost, self.rabbit_url.split(':')[0],
                      '.*', '.*', '.*')
        self.db.create()
        if self.memcached:
            self.memcached.up()
        self._write_conf()
        self.manage('db', 'sync')
        self.manage('bootstrap', '--admin-password', ADMIN_PASSWORD,
                    '--demo-password', DEMO_PASSWORD)
        copies = tuple(self.api_copy_name(n) for n in range(2, self.api_copies + 1))
        for name in (self.services_started() + copies + PROXIES
                     + (('dashboard',) if self.dashboard else ())):
            self.start_service(name)
        if self.api_copies > 1:
            self._front_up()
        if self.hosts_subnet:
            self.hosts_sh('altostack_hosts_net_up')
            # Each host comes up in its own namespaces: side by side.
            self.hosts_up = list(range(2, self.extra_hosts + 2))
            self.private_up = self.private_host_numbers()

            def up(n):
                started = time.monotonic()
                self.hosts_sh('altostack_host_up', str(n), self.host_name(n),
                              *(['private'] if n in self.private_up else []))
                self.host_seconds[n] = time.monotonic() - started
            _each(up, self.hosts_up + self.private_up)
        self.wait_all_up()
        return self

    # -- extra compute hosts (devstack/lib/hosts.sh) -------------------------
    def private_host_numbers(self):
        first = self.extra_hosts + 2
        return list(range(first, first + self.private_hosts))

    def node_join(self, n, token, *options):
        """`altostack-node join TOKEN` inside private host N, as its operator
        would run it there (this checkout's module); the CompletedProcess."""
        return self.host_exec(n, 'env', 'PYTHONPATH=%s' % ROOT, sys.executable, '-m',
                              'cli.node_join', 'join', token, *options, check=False)

    def _rabbit_port(self):
        return str(self.broker_ports()[0])

    def host_name(self, n):
        return self.host if n == 1 else '%s-h%d' % (self.host, n)

    def hosts_sh(self, *argv, check=True):
        """Run a function of devstack/lib/hosts.sh with this cloud's settings."""
        brokers = ' '.join(str(p) for p in self.broker_ports())
        env = dict(os.environ,
                   ALTOSTACK_HOSTS_ID=self.hosts_id,
                   ALTOSTACK_HOSTS_DIR=os.path.join(self.workdir, 'hosts'),
                   ALTOSTACK_HOSTS_SUBNET=self.hosts_subnet or '',
                   ALTOSTACK_HOSTS_PYTHON=sys.executable,
                   ALTOSTACK_HOSTS_CONF=self.conf_path,
                   ALTOSTACK_HOSTS_COMPUTE=' '.join(self._command('compute')),
                   ALTOSTACK_HOSTS_CLEANUP=os.path.join(BIN, 'altostack-network-cleanup'),
                   ALTOSTACK_HOSTS_FORWARD='%s %d %d' % (brokers, self.api_port,
                                                         self.image_port),
                   ALTOSTACK_HOSTS_GATEWAY_FORWARD='%s %d' % (brokers, self.image_port)
                   if self.private_hosts else '',
                   ALTOSTACK_HOSTS_HIDE=self.workdir)
        return subprocess.run(['bash', '-c', 'source "$0" && "$@"',
                               os.path.join(ROOT, 'devstack', 'lib', 'hosts.sh'), *argv],
                              env=env, check=check, capture_output=True, text=True,
                              timeout=180)

    def host_uri(self, n):
        if n == 1:
            return 'qemu:///system'
        return 'qemu+unix:///system?socket=%s/hosts/host%d/libvirt/run/libvirt-sock' % (
            self.workdir, n)

    def host_netns(self, n):
        return 'altostack-%s-host%d' % (self.hosts_id, n)

    def host_exec(self, n, *argv, **kw):
        """Run argv inside host N's namespaces (net, mount, UTS)."""
        return self.hosts_sh('altostack_host_exec', str(n), *argv, **kw)

    def stop_host_agent(self, n):
        self.hosts_sh('altostack_host_agent_stop', str(n))

    def start_host_agent(self, n):
        self.hosts_sh('altostack_host_agent_start', str(n))

    def compute_services(self):
        """{host: state} of every nova-compute record."""
        out = self.manage('service', 'list')
        return {line.split()[1]: line.split()[2] for line in out.splitlines()
                if line and line.split()[0] == 'nova-compute'}

    def services(self):
        out = self.manage('service', 'list')
        return {line.split()[0]: line.split()[2] for line in out.splitlines() if line}

    def wait_for(self, predicate, timeout=60, what='condition'):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.3)
        raise TimeoutError('timed out waiting for %s; logs in %s' % (what, self.workdir))

    def wait_all_up(self, timeout=60):
        def ready():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError('%s exited with %s:\n%s' % (name, proc.returncode,
                                                                   self.log_tail(name)))
            rows = [line.split() for line in self.manage('service', 'list').splitlines()
                    if line]
            hosts = [self.host_name(n) for n in [1] * self.with_compute + self.hosts_up]
            computes = {r[1]: r[2] for r in rows if r[0] == 'nova-compute'}
            states = {r[0]: r[2] for r in rows if r[0] != 'nova-compute'}
            states.update({'nova-compute': 'up'} if all(computes.get(h) == 'up'
                                                         for h in hosts) else {})
            if not all(states.get(BINARIES[s]) == 'up' for s in self.services_started()):
                return False
            try:
                urllib.request.urlopen(self.auth_url, timeout=2).read()
                for port in self.api_copy_ports if self.api_copies > 1 else ():
                    urllib.request.urlopen('http://127.0.0.1:%d/healthcheck' % port,
                                           timeout=2).read()
                if self.api_copies > 1 and set(self.front_status().values()) != {'UP'}:
                    return False
                for name in PROXIES:
                    if name in self.procs:
                        urllib.request.urlopen('http://127.0.0.1:%d/healthcheck' % getattr(
                            self, '%s_port' % name), timeout=2).read()
                if 'dashboard' in self.procs:
                    urllib.request.urlopen(self.dashboard_url + '/healthcheck',
                                           timeout=2).read()
            except OSError:
                return False
            # The compute nodes are known: servers can be placed.
            nodes = {line.split()[0] for line in self.manage('node', 'list').splitlines()
                     if line}
            return all(h in nodes for h in hosts)
        self.wait_for(ready, timeout, 'every service up and the compute nodes known')

    def log_tail(self, name, lines=40):
        out = []
        for suffix in ('.log', '.out'):
            path = os.path.join(self.workdir, name + suffix)
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    out += f.readlines()[-lines:]
        return ''.join(out)

    def stop(self, keep=False):
        # The compute agents go first, while the control plane still
        # answers them (an agent stopping in the middle of a call to a
        # conductor that has gone waits out the call's timeout); then the
        # other services, all at once.
        def down(n):
            r = self.hosts_sh('altostack_host_down', str(n), check=False)
            if r.returncode != 0:
                sys.stderr.write('host %d down failed: %s\n' % (n, r.stderr))
        agent = [self.procs.pop('compute')] if 'compute' in self.procs else []
        stopping = threading.Thread(target=_terminate, args=(agent,))
        stopping.start()
        _each(down, self.hosts_up + self.private_up)
        stopping.join()
        _terminate([self.procs.pop(name) for name in list(self.procs)])
        self._stop_nbd_daemon()
        if self.api_copies > 1:
            self.front_sh('altostack_api_front_down', self.front_dir)
        if self.memcached:
            self.memcached.close()
        if self.hosts_subnet:
            self.hosts_sh('altostack_hosts_net_down', check=False)
        self.hosts_up = []
        self.private_up = []
        self._delete_node_bus_users()
        self._remove_guests()
        # Bridges, namespaces, dnsmasq and nft tables the compute agent made.
        subprocess.run([os.path.join(BIN, 'altostack-network-cleanup'), '--config-file',
                        self.conf_path], capture_output=True, timeout=120)
        if not self.transport:
            self._ctl('delete_vhost', self.vhost)
        # The queue manager's counters (use_queue_manager), one per service.
        for path in glob.glob('/dev/shm/%s_*_qmanager' % glob.escape(self.host)):
            with contextlib.suppress(OSError):
                os.remove(path)
        self.db.drop()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _delete_node_bus_users(self):
        """Broker users `node add` made on this cloud's vhost and no `node
        remove` deleted (a test that failed half-way)."""
        r = _rabbitmqctl('list_permissions', '-p', self.vhost)
        for line in r.stdout.splitlines():
            user = line.split('\t')[0]
            if user.startswith('altostack-node-'):
                _rabbitmqctl('delete_user', user)

    def _stop_nbd_daemon(self):
        """The volume service leaves its NBD export daemon running while
        guests use its exports (so a restart of the service keeps them); a
        cloud that goes away takes it along."""
        path = os.path.join(self.workdir, 'state', 'volumes', 'nbd', 'qsd.pid')
        try:
            with open(path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)

    def _remove_guests(self):
        """Guests a failed test left behind (only this cloud's: their files
        live under its workdir)."""
        virsh = ['virsh', '-q', '-c', 'qemu:///system']
        r = subprocess.run(virsh + ['list', '--all', '--name'], capture_output=True,
                           text=True)
        for name in r.stdout.split():
            xml = subprocess.run(virsh + ['dumpxml', name], capture_output=True,
                                 text=True).stdout
            if self.workdir in xml:
                subprocess.run(virsh + ['destroy', name], capture_output=True)
                subprocess.run(virsh + ['undefine', name], capture_output=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop(keep=True)
            raise

    def __exit__(self, *exc):
        self.stop(keep=exc[0] is not None)

    # -- clients ----------------------------------------------------------
    def openstack(self, *args, cloud='admin', check=True, json_out=False):
        """Run the real openstack CLI.

        With check (the default) a failure raises and the result is stdout,
        parsed as JSON with json_out; without check the CompletedProcess
        comes back for the test to inspect.
        """
        cmd = [os.path.join(BIN, 'openstack'), '--os-cloud', 'altostack-%s' % cloud, *args]
        if json_out:
            cmd += ['-f', 'json']
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=self.clouds_path)
        for key in [k for k in env if k.startswith('OS_') and k != 'OS_CLIENT_CONFIG_FILE']:
            del env[key]
        r = cli_fork.run(cmd, env, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError('openstack %s failed (rc=%d):\n%s%s'
                                 % (' '.join(args), r.returncode, r.stdout, r.stderr))
        if json_out and r.returncode == 0:
            return json.loads(r.stdout)
        return r if not check else r.stdout

    def upload_tiny_image(self, name='altostack-tiny', disk_format='qcow2'):
        """Build (cached) and upload our tiny guest image, public, as admin;
        ``disk_format`` 'raw' uploads it converted (what Ceph clones)."""
        subprocess.run(['bash', '-c', 'source "$1/devstack/lib/guest-image.sh" && '
                        'altostack_build_guest_image "$2"', '_', ROOT, GUEST_IMAGE_DIR],
                       check=True, timeout=600)
        path = os.path.join(GUEST_IMAGE_DIR, 'altostack-tiny.qcow2')
        if disk_format == 'raw':
            raw = os.path.join(self.workdir, 'altostack-tiny.raw')
            subprocess.run(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', path, raw],
                           check=True, timeout=120)
            path = raw
        return self.openstack('image', 'create', '--public', '--disk-format', disk_format,
                              '--container-format', 'bare', '--file', path, name,
                              json_out=True)

    def sdk(self, cloud='admin'):
        import openstack
        return openstack.connect(
            auth_url=self.auth_url, username=cloud,
            password=ADMIN_PASSWORD if cloud == 'admin' else DEMO_PASSWORD,
            project_name=cloud, user_domain_name='Default', project_domain_name='Default',
            region_name='RegionOne', identity_api_version='3')
