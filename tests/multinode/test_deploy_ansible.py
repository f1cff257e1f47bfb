"""Issue 15: the cloud installed by deploy/ansible from one inventory, onto
machines that share nothing but the network (tests/fixtures/ns_machines.py:
private hosts of devstack/lib/hosts.sh, each with sshd on its address).

From nothing, one `ansible-playbook site.yml` makes a cloud of three
controllers (each a Galera node, a RabbitMQ node and every control
service), two computes, a storage machine (Ceph: images and volumes) that
is a load balancer too (HAProxy fronts for the API, the image service and
Galera) and a second load balancer, keepalived moving the fronts' virtual
address between the two; every client of the test uses that address (the
playbook's clouds.yaml). A server boots on a compute and prints on its
serial console. Then test 6: every process of controller 1 is killed -9 (its
services, its RabbitMQ node, its Galera node, its sshd, its libvirtd) and
the cloud boots another server while GETs through the front keep
working. Then a compute is added with one run limited to it, and another
without Ansible: a join token from a controller (`altostack-manage node
add`), `altostack-node join` on the new machine (docs/deploy/join.md).
Then controller 1 boots again and one `site.yml --limit ctl1` brings it
back (Galera by IST, RabbitMQ, its services, the fronts). Last, the VIP
holder's HAProxy and keepalived are killed -9 during GETs through the
VIP: the address moves, GETs answer again, a server boots, and the
playbook's load balancer play for that machine starts them again.
"""

import os
import shutil
import threading
import time

import pytest

from tests.fixtures.deployed_cloud import LBS
from tests.fixtures.deployed_cloud import VENV
from tests.fixtures.deployed_cloud import DeployedCloud
from tests.fixtures.deployed_cloud import _say
from tests.fixtures.ns_machines import NsMachines

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('sshd', path='/usr/sbin') or
    not shutil.which('ceph-osd') or not shutil.which('mariadbd', path='/usr/sbin:/usr/bin'),
    reason='needs root, openssh-server, the Ceph daemons and MariaDB')

# name -> host number (address SUBNET.N); stor1 is a load balancer too,
# lb2 the other one.
MACHINES = {'ctl1': 2, 'ctl2': 3, 'ctl3': 4, 'stor1': 5, 'cmp1': 6, 'cmp2': 7, 'cmp3': 8,
            'cmp4': 9, 'lb2': 10}


@pytest.fixture(scope='module')
def dcloud():
    machines = NsMachines(MACHINES)
    try:
        t0 = time.monotonic()
        machines.up('ctl1', 'ctl2', 'ctl3', 'stor1', 'lb2', 'cmp1', 'cmp2')
        cloud = DeployedCloud(machines, ('cmp1', 'cmp2'))
        cloud.machines_seconds = time.monotonic() - t0
        cloud.write_inventory()
        cloud.playbook()
        yield cloud
    finally:
        # The playbook runs' logs (each task's time in them) kept where
        # ALTOSTACK_TEST_LOG_DIR says, when it says.
        keep = os.environ.get('ALTOSTACK_TEST_LOG_DIR')
        if keep:
            os.makedirs(keep, exist_ok=True)
            for name in os.listdir(machines.workdir):
                if name.endswith('.log'):
                    shutil.copy(os.path.join(machines.workdir, name), keep)
        machines.close()


def test_the_playbook_makes_a_cloud_that_boots_a_server(dcloud, request):
    c = dcloud
    _say(request, 'machines up (s)', round(c.machines_seconds, 1))
    _say(request, 'playbook from nothing (s)', round(c.runs['site'], 1))
    # One load balancer holds the virtual address (the first of the group).
    assert c.vip_holders() == ['stor1'], c.vip_holders()
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
    t, t0 = _kill9_while(getter, pids)
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


def _sql_status(c, name, *variables):
    out = c.m.ssh(name, 'mariadb --no-defaults -uroot -S /var/lib/altostack/galera/n1/sock '
                  '-N -B -e "SHOW STATUS WHERE Variable_name IN (%s)"'
                  % ','.join("'%s'" % v for v in variables)).stdout
    return dict(line.split('\t') for line in out.splitlines())


def test_a_lost_controller_comes_back_with_one_limited_run(dcloud, request):
    """Controller 1, every process of it killed in test 6, boots again (its
    files kept) and one `site.yml --limit ctl1` brings it back: its Galera
    node rejoins (IST), its RabbitMQ node rejoins, its services run and
    the fronts send to them again."""
    import json

    import requests
    c = dcloud
    assert not c.m.pids('ctl1')
    galera_log = os.path.join(c.m.root('ctl1'), 'var', 'lib', 'altostack', 'galera', 'n1',
                              'err.log')
    before = os.path.getsize(galera_log)
    t0 = time.monotonic()
    c.m.boot('ctl1')  # the machine boots: an empty /run, libvirtd, sshd
    c.playbook('--limit', 'ctl1', label='return-ctl1')
    ran = time.monotonic() - t0
    r = requests.get('http://%s:8080/healthcheck' % c.m.addr('ctl1'), timeout=10)
    assert r.status_code == 200, r.text
    galera = _sql_status(c, 'ctl1', 'wsrep_cluster_size', 'wsrep_local_state_comment',
                         'wsrep_cluster_status')
    assert galera == {'wsrep_cluster_size': '3', 'wsrep_local_state_comment': 'Synced',
                      'wsrep_cluster_status': 'Primary'}, galera
    with open(galera_log, errors='replace') as f:
        f.seek(before)
        log = f.read().lower()
    transfer = ('IST' if 'ist received' in log or 'receiving ist' in log else
                'SST' if 'sst complete' in log or 'sst received' in log else '?')
    rabbit = json.loads(c.m.ssh('ctl1', '/var/lib/altostack/rabbitmq/rabbitmqctl '
                                'cluster_status --formatter json').stdout)
    assert len(rabbit['running_nodes']) == 3, rabbit
    for lb in LBS:
        c.wait(lambda lb=lb: all(c.front_status(f, lb)['ctl1'] == 'UP'
                                 for f in ('api', 'image', 'galera')),
               30, 'ctl1 UP on the fronts of ' + lb)

    def services_up():
        rows = c.openstack('compute', 'service', 'list', json_out=True)
        return {s['Binary'] for s in rows if s['Host'] == 'ctl1' and s['State'] == 'up'} >= {
            'nova-conductor', 'nova-scheduler'}
    c.wait(services_up, 60, "ctl1's services up")
    serving = time.monotonic() - t0
    _say(request, 'ctl1 back: boot + playbook --limit ctl1 (s)', round(ran, 1))
    _say(request, 'ctl1 back: its Galera node joined by', transfer)
    _say(request, 'ctl1 back: kill to its services up in the service list (s)',
         round(serving, 1))
    # What it serves is the cloud's: a token it issues works at the front.
    with open(os.path.join(c.secrets, 'demo_password')) as f:
        password = f.read().split()[0]
    r = requests.post('http://%s:8080/identity/v3/auth/tokens' % c.m.addr('ctl1'), json={
        'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'demo', 'domain': {'id': 'default'}, 'password': password}}},
            'scope': {'project': {'name': 'demo', 'domain': {'id': 'default'}}}}}, timeout=30)
    assert r.status_code == 201, r.text
    r = requests.get('http://%s:8080/compute/v2.1/servers' % c.vip,
                     headers={'X-Auth-Token': r.headers['X-Subject-Token']}, timeout=30)
    assert r.status_code == 200, r.text


def _kill9_while(getter, pids):
    """Start ``getter`` in a thread, let it run 2 s, kill -9 ``pids``; the
    thread and the time of the kill."""
    t = threading.Thread(target=getter, daemon=True)
    t.start()
    time.sleep(2)
    t0 = time.monotonic()
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    return t, t0


def _lb_pids(c, lb):
    """The load balancer processes of machine LB (HAProxy fronts and
    keepalived; not Ceph), from their pid files."""
    front = os.path.join(c.m.root(lb), 'var', 'lib', 'altostack', 'front')
    files = [os.path.join(front, f, 'haproxy.pid') for f in ('api', 'image', 'galera')]
    files += [os.path.join(front, 'keepalived', f)
              for f in ('keepalived.pid', 'vrrp.pid', 'checkers.pid')]
    pids = set()
    mine = set(c.m.pids(lb))
    for path in files:
        try:
            with open(path) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if pid in mine:
            pids.add(pid)
    return pids


def test_the_virtual_address_moves_when_its_holder_loses_haproxy_and_keepalived(
        dcloud, request):
    c = dcloud
    import requests
    holders = c.vip_holders()
    assert len(holders) == 1, holders
    holder = holders[0]
    other = [lb for lb in LBS if lb != holder][0]
    token = c.token()
    url = 'http://%s:8080/compute/v2.1/servers' % c.vip
    results = []  # (started, ended, ok)
    stop = threading.Event()

    def getter():
        while not stop.is_set():
            t = time.monotonic()
            try:
                ok = requests.get(url, headers={'X-Auth-Token': token},
                                  timeout=(2, 30)).status_code == 200
            except requests.RequestException:
                ok = False
            results.append((t, time.monotonic(), ok))
            if not ok:
                time.sleep(0.1)  # a refused connection fails at once: pace them

    pids = _lb_pids(c, holder)
    assert len(pids) >= 5, pids  # 3 HAProxy, keepalived and its VRRP child
    t, t0 = _kill9_while(getter, pids)
    while other not in c.vip_holders():
        assert time.monotonic() - t0 < 30, 'the address never moved to ' + other
        time.sleep(0.05)
    moved = time.monotonic() - t0
    deadline = time.monotonic() + 60
    while not any(ok and s > t0 for s, _, ok in results) and time.monotonic() < deadline:
        time.sleep(0.05)
    answered = min((e for s, e, ok in results if ok and s > t0), default=None)
    srv = c.boot('deploy-vm5')
    booted = time.monotonic() - t0
    stop.set()
    t.join(60)
    failed = [r for r in results if not r[2]]
    _say(request, 'VIP holder %s lost: address on %s after (s)' % (holder, other),
         round(moved, 2))
    _say(request, 'VIP: GETs answer again after (s)',
         None if answered is None else round(answered - t0, 2))
    _say(request, 'VIP: failed GETs (failed/all)', '%d/%d' % (len(failed), len(results)))
    _say(request, 'VIP: kill to a new server ACTIVE (s)', round(booted, 1))
    assert answered is not None and answered - t0 < 15
    assert srv['status'] == 'ACTIVE', srv
    assert all(s < t0 + 15 for s, _, _ in failed), 'GETs failed late: %s' % failed[-5:]

    # The lost load balancer's processes start again (the playbook's load
    # balancer play for it alone); the address stays where it is
    # (nopreempt) and only there.
    c.playbook('--limit', holder, '--tags', 'loadbalancer', label='restart-' + holder)
    _say(request, 'playbook --limit %s --tags loadbalancer (s)' % holder,
         round(c.runs['restart-' + holder], 1))
    assert len(_lb_pids(c, holder)) >= 5
    seen = set()
    for _ in range(10):
        seen.add(tuple(c.vip_holders()))
        time.sleep(0.5)
    assert seen == {(other,)}, seen
    # Its fronts see the API copies as the holder's do.
    c.wait(lambda: c.front_status('api', holder) == c.front_status('api', other), 30,
           'the fronts of %s as those of %s' % (holder, other))
    assert requests.get(url, headers={'X-Auth-Token': token}, timeout=30).status_code == 200
