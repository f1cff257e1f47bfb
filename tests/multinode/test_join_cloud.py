"""Issue 15: the whole cloud without Ansible, on machines that share nothing
but the network (tests/fixtures/ns_machines.py), every step a command run
inside a machine, as an operator would (docs/deploy/join.md):

    ctl1$ altostack-node init --roles control,loadbalancer \
              --my-ip ... --front-address ...     # controller (Ceph's mon
                                                  # and mgr), load balancer
    ctl1$ altostack-manage node add stor1 --role storage         # a token
    stor1$ altostack-node join TOKEN                             # Ceph OSD
    ctl1$ altostack-manage node add ctl2 --role control          # a token
    ctl2$ altostack-node join TOKEN                              # Galera,
                                          # RabbitMQ, control services, fronts
    (ctl3 the same; cmp1 and cmp2 with compute tokens)

Then the storage machine's OSD holds the cluster's data; three
controllers, each a Galera node, a RabbitMQ node and every control
service, are the fronts' servers; both computes are hypervisors with
Ceph's compute user (no database credential, no service key); a server
boots on a compute, prints on its serial console, and a volume cloned
from the image on Ceph attaches to it as an RBD disk. Bad input (a role
that cannot join, a used token) is refused with exit status 1.
"""

import json
import os
import shutil
import signal
import threading
import time

import pytest

from tests.fixtures.deployed_cloud import VENV
from tests.fixtures.deployed_cloud import DeployedCloud
from tests.fixtures.deployed_cloud import _say
from tests.fixtures.ns_machines import NsMachines

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('sshd', path='/usr/sbin') or
    not shutil.which('ceph-osd') or not shutil.which('mariadbd', path='/usr/sbin:/usr/bin'),
    reason='needs root, openssh-server, the Ceph daemons and MariaDB')

MACHINES = {'ctl1': 2, 'ctl2': 3, 'ctl3': 4, 'stor1': 5, 'cmp1': 6, 'cmp2': 7}
FRONT = 10  # the cloud's address: SUBNET.10, a second address of ctl1
MANAGE = '%s/bin/altostack-manage --config-file /etc/altostack/altostack.conf' % VENV
NODE = '%s/bin/altostack-node' % VENV


class JoinedCloud(DeployedCloud):
    """The helpers of the Ansible test on a cloud made by init and join:
    the admin password is the one init wrote on ctl1."""

    def __init__(self, machines):  # noqa: B042 - not DeployedCloud's inventory
        self.m = machines
        self.computes = ['cmp1', 'cmp2']
        self.clouds_path = os.path.join(machines.workdir, 'clouds.yaml')
        self.vip = '%s.%d' % (machines.subnet, FRONT)
        self.auth_url = 'http://%s:8080/identity/v3' % self.vip
        self.secrets = os.path.join(machines.root('ctl1'), 'etc', 'altostack')
        self.times = {}

    def front_status(self, front):
        sock = os.path.join(self.m.root('ctl1'), 'var', 'lib', 'altostack', 'front', front,
                            'haproxy.sock')
        from tests.fixtures.engines import haproxy_stat
        return {server: status for _, server, status in haproxy_stat(sock)}

    def run(self, name, command, label, timeout=600):
        t0 = time.monotonic()
        r = self.m.ssh(name, command, check=False, timeout=timeout)
        self.times[label] = round(time.monotonic() - t0, 1)
        with open(os.path.join(self.m.workdir, '%s.log' % label), 'w') as f:
            f.write(r.stdout + r.stderr)
        return r

    def token(self, on, name, role='compute'):
        r = self.m.ssh(on, '%s node add %s --role %s' % (MANAGE, name, role))
        token = r.stdout.strip()
        assert token.startswith('altostack-join-1.'), r.stdout + r.stderr
        return token

    def join(self, name, token):
        r = self.run(name, '%s join %s' % (NODE, token), 'join-%s' % name)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        return r.stdout


@pytest.fixture(scope='module')
def jcloud():
    machines = NsMachines(MACHINES)
    try:
        machines.up(*MACHINES)
        c = JoinedCloud(machines)
        third = int(machines.subnet.split('.')[2])
        r = c.run('ctl1', '%s init --name ctl1 --roles control,loadbalancer --my-ip %s '
                  '--front-address %s --public-cidr 172.30.%d.0/24 --report-interval 2 '
                  '--service-down-time 10'
                  % (NODE, machines.addr('ctl1'), c.vip, third), 'init')
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        yield c
    finally:
        machines.close()


def test_a_storage_machine_joins_and_its_osd_holds_the_data(jcloud, request):
    c = jcloud
    _say(request, 'init: controller + load balancer (s)', c.times['init'])
    out = c.join('stor1', c.token('ctl1', 'stor1', 'storage'))
    assert 'Joined as storage machine stor1' in out, out
    _say(request, 'token to a joined storage machine (s)', c.times['join-stor1'])
    ceph = ('ceph --cluster altostack -c /var/lib/altostack/ceph/ceph.conf -n client.admin '
            '--keyring /var/lib/altostack/ceph/keys/client.admin.keyring ')
    tree = c.m.ssh('ctl1', ceph + 'osd tree -f json', check=False)
    hosts = [n['name'] for n in json.loads(tree.stdout)['nodes']
             if n['type'] == 'host']
    assert hosts == ['stor1'], tree.stdout + tree.stderr
    # the storage machine has the key that makes OSDs, no service's or admin's
    keys = sorted(os.listdir(os.path.join(c.m.root('stor1'), 'etc', 'altostack', 'ceph')))
    assert keys == ['ceph.conf', 'client.bootstrap-osd.keyring'], keys


def test_controllers_join_with_tokens(jcloud, request):
    c = jcloud
    for name in ('ctl2', 'ctl3'):
        out = c.join(name, c.token('ctl1', name, 'control'))
        assert 'Joined as controller %s' % name in out, out
        _say(request, 'token to a joined controller %s (s)' % name, c.times['join-' + name])
    # The token carried no database credential; the node got the cloud's
    # through RPC, and its altostack.conf is the controller role's.
    with open(os.path.join(c.m.root('ctl3'), 'etc', 'altostack', 'altostack.conf')) as f:
        conf = f.read()
    assert 'mysql+pymysql://altostack:' in conf and '@%s:3306/' % c.vip in conf, conf
    assert 'rabbit_quorum_queue = true' in conf
    assert not os.path.exists(os.path.join(c.m.root('ctl3'), 'etc', 'altostack',
                                           'join-bus.conf'))
    members = c.m.ssh('ctl1', '/var/lib/altostack/rabbitmq/rabbitmqctl cluster_status').stdout
    for name in ('ctl1', 'ctl2', 'ctl3'):
        assert 'rabbit@%s' % c.m.addr(name) in members, members
    size = c.m.ssh('ctl3', "mariadb --no-defaults -uroot -S /var/lib/altostack/galera/n1/sock "
                   "-N -e \"SHOW STATUS LIKE 'wsrep_cluster_size'\"", check=False)
    assert size.stdout.split()[-1:] == ['3'], size.stdout + size.stderr
    c.wait(lambda: c.front_status('api') == {'ctl1': 'UP', 'ctl2': 'UP', 'ctl3': 'UP'}, 30,
           'every API copy UP in the front')
    assert set(c.front_status('galera')) == {'ctl1', 'ctl2', 'ctl3'}


def test_bad_input_is_refused(jcloud):
    c = jcloud
    for role, says in (('loadbalancer', 'cannot join as'), ('bogus', 'is not a role')):
        r = c.m.ssh('ctl1', '%s node add x1 --role %s' % (MANAGE, role), check=False)
        assert r.returncode == 1 and says in r.stderr, r.stdout + r.stderr
    r = c.m.ssh('ctl1', '%s init --my-ip 1.2.3.4 --front-address 1.2.3.5 --roles control'
                % NODE, check=False)
    assert r.returncode == 1 and 'the roles control,loadbalancer' in r.stderr, (
        r.stdout + r.stderr)


def test_computes_join_and_a_server_boots(jcloud, request):
    c = jcloud
    # Tokens from a controller that joined: it names every controller.
    tokens = {n: c.token('ctl2', n) for n in ('cmp1', 'cmp2')}
    outs, errors = {}, []

    def join(n):
        try:
            outs[n] = c.join(n, tokens[n])
        except AssertionError as e:
            errors.append(e)
    threads = [threading.Thread(target=join, args=(n,)) for n in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    c.write_clouds()
    c.computes_up(['cmp1', 'cmp2'])
    _say(request, 'token to a joined compute (s)', max(c.times['join-cmp1'],
                                                       c.times['join-cmp2']))
    # A used token is refused, with the reason, exit 1 (on another machine).
    r = c.m.ssh('cmp2', '%s join --config-dir /tmp/again --state-path /tmp/again-state '
                '--no-start %s' % (NODE, tokens['cmp1']), check=False)
    assert r.returncode == 1 and 'used already' in r.stderr, r.stdout + r.stderr

    services = c.openstack('compute', 'service', 'list', json_out=True)
    hosts = {}
    for s in services:
        if s['State'] == 'up':
            hosts.setdefault(s['Binary'], set()).add(s['Host'])
    for binary in ('nova-conductor', 'nova-scheduler'):
        assert hosts.get(binary) == {'ctl1', 'ctl2', 'ctl3'}, services
    assert hosts.get('nova-compute') == {'cmp1', 'cmp2'}, services
    hyps = {h['Hypervisor Hostname'] for h in c.openstack('hypervisor', 'list',
                                                            json_out=True)}
    assert hyps == {'cmp1', 'cmp2'}, hyps
    t0 = time.monotonic()
    assert c.upload_image()['status'] == 'active'
    srv = c.boot('join-vm1')
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] in ('cmp1', 'cmp2'), srv
    c.console_says('join-vm1', 'ALTOSTACK-READY')
    _say(request, 'image, server and its console (s)', round(time.monotonic() - t0, 1))
    # A volume cloned from the image on Ceph, attached: the compute opens
    # it as Ceph's compute user, whose key came in the conductor's answer.
    host = srv['OS-EXT-SRV-ATTR:host']
    ceph_dir = os.path.join(c.m.root(host), 'etc', 'altostack', 'ceph')
    assert sorted(os.listdir(ceph_dir)) == ['ceph.conf', 'client.altostack-compute.keyring']
    with open(os.path.join(c.m.root(host), 'etc', 'altostack', 'altostack.conf')) as f:
        conf = f.read()
    assert 'rbd_user = altostack-compute' in conf and '[database]' not in conf, conf
    c.openstack('volume', 'create', '--image', 'altostack-tiny', '--size', '1', 'join-v1')
    c.wait(lambda: c.openstack('volume', 'show', 'join-v1', '-f', 'value', '-c',
                               'status').strip() == 'available', 120, 'join-v1 available')
    c.openstack('server', 'add', 'volume', 'join-vm1', 'join-v1')
    c.wait(lambda: c.openstack('volume', 'show', 'join-v1', '-f', 'value', '-c',
                               'status').strip() == 'in-use', 120, 'join-v1 in-use')
    xml = c.m.ssh(host, 'virsh -c qemu:///system dumpxml altostack-%s' % srv['id']).stdout
    assert "protocol='rbd'" in xml and "username='altostack-compute'" in xml, xml


def test_a_lost_controller_is_removed_and_the_cloud_keeps_booting(jcloud, request):
    """Every process of ctl3 killed -9 (the machine lost); `node remove
    ctl3` on ctl2 takes it out of the RabbitMQ cluster, the fronts and the
    service list, once Galera has dropped it; servers still boot."""
    c = jcloud
    pids = c.m.pids('ctl3')
    assert len(pids) > 10, pids  # services, rabbit, galera, sshd, libvirtd
    t0 = time.monotonic()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    c.wait(lambda: not c.m.pids('ctl3'), 30, 'every process of ctl3 gone')
    said = []

    def removed():
        r = c.m.ssh('ctl2', '%s node remove ctl3' % MANAGE, check=False, timeout=300)
        if r.returncode == 0:
            return True
        # refused, with the reason, until Galera has dropped the lost node
        assert 'still in the cluster' in r.stderr, r.stdout + r.stderr
        said.append(r.stderr)
        return False
    c.wait(removed, 120, 'ctl3 removed')
    _say(request, 'kill -9 of ctl3 to its removal (s)', round(time.monotonic() - t0, 1))
    assert c.front_status('api') == {'ctl1': 'UP', 'ctl2': 'UP'}
    assert set(c.front_status('galera')) == {'ctl1', 'ctl2'}
    members = c.m.ssh('ctl1', '/var/lib/altostack/rabbitmq/rabbitmqctl cluster_status').stdout
    assert 'rabbit@%s' % c.m.addr('ctl3') not in members, members
    hosts = {s['Host'] for s in c.openstack('compute', 'service', 'list', json_out=True)}
    assert 'ctl3' not in hosts and {'ctl1', 'ctl2'} <= hosts, hosts
    r = c.m.ssh('ctl2', '%s node remove ctl1' % MANAGE, check=False)
    assert r.returncode == 1 and 'load balancer' in r.stderr, r.stdout + r.stderr
    srv = c.boot('join-vm2')
    assert srv['status'] == 'ACTIVE', srv
