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

import os
import shutil
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

# name -> host number (address SUBNET.N); stor1 is the load balancer too.
MACHINES = {'ctl1': 2, 'ctl2': 3, 'ctl3': 4, 'stor1': 5, 'cmp1': 6, 'cmp2': 7, 'cmp3': 8,
            'cmp4': 9}


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
