"""Issue 15: the cloud installed by deploy/ansible from one inventory, onto
machines that share nothing but the network (tests/fixtures/ns_machines.py:
private hosts of devstack/lib/hosts.sh, each with sshd on its address).

From nothing, one `ansible-playbook site.yml` makes a cloud of three
controllers (each a Galera node, a RabbitMQ node and every control
service), two computes and a storage machine (Ceph: images and volumes)
that is the load balancer too (HAProxy fronts for the API, the image
service and Galera). A server boots on a compute and prints on its serial
console. Then test 6: every process of controller 1 is killed -9 (its
services, its RabbitMQ node, its Galera node, its sshd, its libvirtd) and
the cloud boots another server while GETs through the front keep
working. Then a compute is added with one run limited to it, and another
without Ansible: a join token from a controller (`altostack-manage node
add`), `altostack-node join` on the new machine (docs/deploy/join.md).
"""

import fcntl
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
import yaml

from tests.fixtures.engines import haproxy_stat
from tests.fixtures.ns_machines import NsMachines

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('sshd', path='/usr/sbin') or
    not shutil.which('ceph-osd') or not shutil.which('mariadbd', path='/usr/sbin:/usr/bin'),
    reason='needs root, openssh-server, the Ceph daemons and MariaDB')

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, 'deploy', 'ansible')
BIN = os.path.dirname(sys.executable)
VENV = os.path.dirname(BIN)
ANSIBLE_VENV = os.environ.get('ALTOSTACK_TEST_ANSIBLE_VENV',
                              '/var/cache/altostack/ansible-venv-12.3.0')
PINS = ('ansible==12.3.0', 'openstacksdk==4.5.0')
# name -> host number (address SUBNET.N); stor1 is the load balancer too.
MACHINES = {'ctl1': 2, 'ctl2': 3, 'ctl3': 4, 'stor1': 5, 'cmp1': 6, 'cmp2': 7, 'cmp3': 8,
            'cmp4': 9}


def _say(request, name, value):
    request.node.user_properties.append((name, value))
    print('\n%s: %s' % (name, value))


def ansible_playbook():
    """The pinned Ansible of tests/functional/test_ansible.py (same cache)."""
    python = os.path.join(ANSIBLE_VENV, 'bin', 'python')
    os.makedirs(os.path.dirname(ANSIBLE_VENV), exist_ok=True)
    with open(ANSIBLE_VENV + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(ANSIBLE_VENV, 'bin', 'ansible-playbook')):
            subprocess.run([sys.executable, '-m', 'venv', '--clear', ANSIBLE_VENV], check=True)
            subprocess.run([python, '-m', 'pip', 'install', '-q', *PINS], check=True,
                           timeout=900)
    return os.path.join(ANSIBLE_VENV, 'bin', 'ansible-playbook')


class DeployedCloud:
    def __init__(self, machines, computes):
        self.m = machines
        self.computes = list(computes)
        self.inventory = os.path.join(machines.workdir, 'inventory', 'hosts.ini')
        self.secrets = os.path.join(machines.workdir, 'inventory', 'secrets')
        self.clouds_path = os.path.join(machines.workdir, 'clouds.yaml')
        self.vip = machines.addr('stor1')
        self.auth_url = 'http://%s:8080/identity/v3' % self.vip
        self.runs = {}

    def write_inventory(self):
        m = self.m
        lines = ['[control]'] + ['%s ansible_host=%s' % (h, m.addr(h))
                                 for h in ('ctl1', 'ctl2', 'ctl3')]
        lines += ['', '[storage]', 'stor1 ansible_host=%s' % m.addr('stor1'),
                  '', '[loadbalancer]', 'stor1', '', '[compute]']
        lines += ['%s ansible_host=%s' % (h, m.addr(h)) for h in self.computes]
        third = int(m.subnet.split('.')[2])
        lines += ['', '[all:vars]', 'ansible_user=root',
                  'ansible_ssh_private_key_file=%s' % m.key,
                  'altostack_src=%s' % ROOT, 'altostack_venv=%s' % VENV,
                  'altostack_public_cidr=172.31.%d.0/24' % third,
                  'altostack_report_interval=2', 'altostack_service_down_time=10']
        os.makedirs(os.path.dirname(self.inventory), exist_ok=True)
        with open(self.inventory, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def playbook(self, *args, label='site'):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_') and k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
        env.update(ANSIBLE_CONFIG=os.path.join(DEPLOY, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_HOME=os.path.join(self.m.workdir, 'ansible'),
                   ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(self.m.workdir, 'cp'))
        t0 = time.monotonic()
        r = subprocess.run([ansible_playbook(), '-i', self.inventory,
                            os.path.join(DEPLOY, 'site.yml'), *args],
                           capture_output=True, text=True, env=env, timeout=1200)
        self.runs[label] = time.monotonic() - t0
        with open(os.path.join(self.m.workdir, '%s.log' % label), 'w') as f:
            f.write(r.stdout + r.stderr)
        recap = r.stdout[r.stdout.rfind('PLAY RECAP'):]
        assert r.returncode == 0 and 'failed=0' in recap, r.stdout[-8000:] + r.stderr[-2000:]
        return r.stdout

    def write_clouds(self):
        def secret(name):
            with open(os.path.join(self.secrets, name)) as f:
                return f.read().split()[0]
        clouds = {'clouds': {
            'altostack-%s' % who: {
                'auth': {'auth_url': self.auth_url, 'username': who,
                         'password': secret('%s_password' % who), 'project_name': who,
                         'user_domain_name': 'Default', 'project_domain_name': 'Default'},
                'region_name': 'RegionOne', 'identity_api_version': 3}
            for who in ('admin', 'demo')}}
        with open(self.clouds_path, 'w') as f:
            yaml.safe_dump(clouds, f)

    def openstack(self, *args, cloud='admin', check=True, json_out=False, timeout=120):
        import json
        cmd = [os.path.join(BIN, 'openstack'), '--os-cloud', 'altostack-%s' % cloud, *args]
        if json_out:
            cmd += ['-f', 'json']
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = self.clouds_path
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError('openstack %s failed (rc=%d):\n%s%s'
                                 % (' '.join(args), r.returncode, r.stdout, r.stderr))
        if not check:
            return r
        return json.loads(r.stdout) if json_out else r.stdout

    def front_status(self, front):
        """{server: 'UP'/'DOWN'...} of one of the load balancer's fronts
        (its stats socket, in the machine's private /var/lib/altostack)."""
        sock = os.path.join(self.m.root('stor1'), 'var', 'lib', 'altostack', 'front', front,
                            'haproxy.sock')
        return {server: status for _, server, status in haproxy_stat(sock)}

    def token(self):
        return self.openstack('token', 'issue', '-f', 'value', '-c', 'id').strip()

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (AssertionError, subprocess.TimeoutExpired) as e:
                last = e
            time.sleep(1)
        raise AssertionError('timed out waiting for %s (%s); files in %s'
                             % (what, last, self.m.workdir))

    def computes_up(self, names):
        def ok():
            rows = self.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                                  json_out=True)
            up = {r['Host'] for r in rows if r['State'] == 'up'}
            hyps = {h['Hypervisor Hostname'] for h in self.openstack('hypervisor', 'list',
                                                                      json_out=True)}
            return set(names) <= up and set(names) <= hyps
        self.wait(ok, 120, 'computes %s up' % names)

    def upload_image(self):
        guest = os.environ.get('ALTOSTACK_TEST_IMAGE_DIR', '/var/cache/altostack/guest-image')
        subprocess.run(['bash', '-c', 'source "$1/devstack/lib/guest-image.sh" && '
                        'altostack_build_guest_image "$2"', '_', ROOT, guest],
                       check=True, timeout=600)
        raw = os.path.join(self.m.workdir, 'altostack-tiny.raw')
        subprocess.run(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw',
                        os.path.join(guest, 'altostack-tiny.qcow2'), raw], check=True,
                       timeout=120)
        return self.openstack('image', 'create', '--public', '--disk-format', 'raw',
                              '--container-format', 'bare', '--file', raw, 'altostack-tiny',
                              json_out=True, timeout=300)

    def boot(self, name, host=None):
        args = ['server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                '--nic', 'none', '--wait', name]
        if host:
            args[-1:-1] = ['--availability-zone', 'nova:%s' % host]
        return self.openstack(*args, json_out=True, timeout=300)

    def console_says(self, name, marker, timeout=240):
        def ok():
            return marker in self.openstack('console', 'log', 'show', name)
        self.wait(ok, timeout, '%r on the console of %s' % (marker, name))


@pytest.fixture(scope='module')
def dcloud():
    machines = NsMachines(MACHINES)
    try:
        t0 = time.monotonic()
        machines.up('ctl1', 'ctl2', 'ctl3', 'stor1', 'cmp1', 'cmp2')
        cloud = DeployedCloud(machines, ('cmp1', 'cmp2'))
        cloud.machines_seconds = time.monotonic() - t0
        cloud.write_inventory()
        cloud.playbook()
        cloud.write_clouds()
        yield cloud
    finally:
        machines.close()


def test_the_playbook_makes_a_cloud_that_boots_a_server(dcloud, request):
    c = dcloud
    _say(request, 'machines up (s)', round(c.machines_seconds, 1))
    _say(request, 'playbook from nothing (s)', round(c.runs['site'], 1))
    services = c.openstack('compute', 'service', 'list', json_out=True)
    for binary in ('nova-conductor', 'nova-scheduler'):
        assert {s['Host'] for s in services if s['Binary'] == binary} == {
            'ctl1', 'ctl2', 'ctl3'}, services
    c.computes_up(['cmp1', 'cmp2'])
    image = c.upload_image()
    assert image['status'] == 'active', image
    srv = c.boot('deploy-vm1')
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] in ('cmp1', 'cmp2'), srv
    c.console_says('deploy-vm1', 'ALTOSTACK-READY')


def test_losing_a_controller_entirely_keeps_the_cloud_booting(dcloud, request):
    """Issue 15, test 6."""
    c = dcloud
    import requests
    errors, gets = [], [0]
    stop = threading.Event()
    token = c.token()
    url = 'http://%s:8080/compute/v2.1/servers' % c.vip

    def getter():
        # GETs through the front, back to back, with one token (each API
        # copy checks it with the token keys every controller shares).
        while not stop.is_set():
            try:
                r = requests.get(url, headers={'X-Auth-Token': token}, timeout=30)
                if r.status_code != 200:
                    errors.append('%d %s' % (r.status_code, r.text[:300]))
            except requests.RequestException as e:
                errors.append(repr(e))
            gets[0] += 1

    pids = c.m.pids('ctl1')
    assert len(pids) > 10, pids  # services, rabbit, galera, sshd, libvirtd
    t = threading.Thread(target=getter, daemon=True)
    t.start()
    time.sleep(2)
    t0 = time.monotonic()
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    c.wait(lambda: not c.m.pids('ctl1'), 30, 'every process of ctl1 gone')
    srv = c.boot('deploy-vm2')
    recovered = time.monotonic() - t0
    stop.set()
    t.join(120)
    assert srv['status'] == 'ACTIVE', srv
    _say(request, 'kill -9 of ctl1 to a new server ACTIVE (s)', round(recovered, 1))
    _say(request, 'GETs through the front during the loss (failed/all)',
         '%d/%d' % (len(errors), gets[0]))
    assert not errors, errors
    # The fronts took ctl1 out: its API copy, and its Galera node (the
    # writer, now a backup's turn).
    api, galera = c.front_status('api'), c.front_status('galera')
    assert api == {'ctl1': 'DOWN', 'ctl2': 'UP', 'ctl3': 'UP'}, api
    assert galera['ctl1'] == 'DOWN' and 'UP' in (galera['ctl2'], galera['ctl3']), galera
    c.console_says('deploy-vm2', 'ALTOSTACK-READY')
    assert c.openstack('server', 'show', 'deploy-vm1', json_out=True)['status'] == 'ACTIVE'


def test_a_compute_node_is_added_with_a_limited_run(dcloud, request):
    c = dcloud
    c.m.up('cmp3')
    c.computes.append('cmp3')
    c.write_inventory()
    # ctl1 is lost (the test before): the run touches cmp3 only.
    c.playbook('--limit', 'cmp3', label='add-cmp3')
    _say(request, 'playbook --limit cmp3 (s)', round(c.runs['add-cmp3'], 1))
    c.computes_up(['cmp3'])
    srv = c.boot('deploy-vm3', host='cmp3')
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] == 'cmp3', srv


def test_a_compute_node_joins_with_a_token_without_ansible(dcloud, request):
    """The path without Ansible for a compute, on the cloud the playbook
    made (its controllers name every RabbitMQ node and the cluster's bus
    settings in the token: [node_join] of the controller role), while
    controller 1 is still lost."""
    c = dcloud
    c.m.up('cmp4')
    t0 = time.monotonic()
    token = c.m.ssh('ctl2', '%s/bin/altostack-manage --config-file /etc/altostack/altostack.conf '
                    'node add cmp4' % VENV).stdout.strip()
    assert token.startswith('altostack-join-1.'), token
    r = c.m.ssh('cmp4', '%s/bin/altostack-node join %s' % (VENV, token), timeout=180)
    assert 'Joined as cmp4 (my_ip %s)' % c.m.addr('cmp4') in r.stdout, r.stdout + r.stderr
    c.computes_up(['cmp4'])
    _say(request, 'token to a joined compute (s)', round(time.monotonic() - t0, 1))
    with open(os.path.join(c.m.root('cmp4'), 'etc', 'altostack', 'altostack.conf')) as f:
        conf = f.read()
    assert '[database]' not in conf and 'rabbit_quorum_queue = True' in conf, conf
    srv = c.boot('deploy-vm4', host='cmp4')
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] == 'cmp4', srv
    c.console_says('deploy-vm4', 'ALTOSTACK-READY')
