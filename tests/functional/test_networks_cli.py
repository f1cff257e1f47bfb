"""Networks through the real openstack CLI, with real guests: DHCP leases,
pings from the network's namespace, security groups that really filter,
floating IPs reachable from the host, and projects kept apart."""

import json
import subprocess

import pytest

from tests.fixtures import bus
from tests.fixtures.netcheck import PING_SCRIPT
from tests.fixtures.netcheck import addresses
from tests.fixtures.netcheck import netns_ok
from tests.fixtures.netcheck import ping
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_console

VIRSH = ['virsh', '-c', 'qemu:///system']
LISTEN_SCRIPT = """#!/bin/sh
(while true; do echo altostack-hello | nc -l -p 22; done) >/dev/null 2>&1 &
echo LISTENING
"""


def tcp_open(namespace, address, port):
    return netns_ok(namespace, 'timeout', '3', 'bash', '-c',
                    '</dev/tcp/%s/%d' % (address, port))


@pytest.fixture(scope='module')
def net1(cloud, image):
    net = cloud.openstack('network', 'create', 'net1', cloud='demo', json_out=True)
    sub = cloud.openstack('subnet', 'create', '--network', 'net1', '--subnet-range',
                          '10.10.0.0/24', 'sub1', cloud='demo', json_out=True)
    assert sub['gateway_ip'] == '10.10.0.1'
    # Floating IPs reach net1 through a router, as in Neutron.
    cloud.openstack('router', 'create', 'router-net1', cloud='demo')
    cloud.openstack('router', 'set', '--external-gateway', 'public', 'router-net1',
                    cloud='demo')
    cloud.openstack('router', 'add', 'subnet', 'router-net1', 'sub1', cloud='demo')
    yield net
    cloud.openstack('router', 'remove', 'subnet', 'router-net1', 'sub1', cloud='demo',
                    check=False)
    cloud.openstack('router', 'delete', 'router-net1', cloud='demo', check=False)
    cloud.openstack('network', 'delete', 'net1', cloud='demo', check=False)


def test_network_guests_dhcp_ping_security_groups_and_floating_ip(cloud, image, net1,
                                                                   tmp_path):
    # A port with a chosen address, then a server on it; a second server on
    # the same network pings the first from its user_data.
    port = cloud.openstack('port', 'create', '--network', 'net1', '--fixed-ip',
                           'subnet=sub1,ip-address=10.10.0.50', 'p1', cloud='demo',
                           json_out=True)
    cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                    '--port', 'p1', '--user-data',
                    user_data(tmp_path, 'listen.sh', LISTEN_SCRIPT), 'net-vm1', cloud='demo')
    cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                    '--network', 'net1', '--user-data',
                    user_data(tmp_path, 'ping.sh',
                              PING_SCRIPT.format(target='10.10.0.50', tries=40)),
                    '--wait', 'net-vm2', cloud='demo')
    out1 = wait_console(cloud, 'net-vm1', 'ALTOSTACK-READY')
    mac = port['mac_address']
    assert 'ALTOSTACK-NET eth0 mac=%s 10.10.0.50/24 gw=10.10.0.1 source=dhcp' % mac in out1
    assert addresses(cloud, 'net-vm1', 'demo') == {'net1': ['10.10.0.50']}
    ports = cloud.openstack('port', 'list', '--server', 'net-vm1', cloud='demo',
                            json_out=True)
    assert [p['ID'] for p in ports] == [port['id']]
    # Same network, same default group: the two guests reach each other.
    out2 = wait_console(cloud, 'net-vm2', 'PING-RESULT')
    assert 'PING-RESULT 10.10.0.50 reached' in out2, out2[-1500:]
    vm2_ip = addresses(cloud, 'net-vm2', 'demo')['net1'][0]
    assert 'source=dhcp' in out2 and ' %s/24 ' % vm2_ip in out2

    # From the network's DHCP namespace: the default group lets nothing in ...
    ns = 'qdhcp-%s' % net1['id']
    assert not ping(ns, '10.10.0.50')
    assert not tcp_open(ns, '10.10.0.50', 22)
    # ... until rules open ICMP and TCP 22.
    cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default',
                    cloud='demo')
    until(lambda: ping(ns, '10.10.0.50'), 20, 'ping after the icmp rule')
    assert not tcp_open(ns, '10.10.0.50', 22)
    cloud.openstack('security', 'group', 'create', 'ssh', cloud='demo')
    rule = cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'tcp',
                           '--dst-port', '22', '--remote-ip', '0.0.0.0/0', 'ssh',
                           cloud='demo', json_out=True)
    assert not tcp_open(ns, '10.10.0.50', 22)
    cloud.openstack('server', 'add', 'security', 'group', 'net-vm1', 'ssh', cloud='demo')
    until(lambda: tcp_open(ns, '10.10.0.50', 22), 20, 'tcp 22 with the ssh group')
    groups = cloud.openstack('server', 'show', 'net-vm1', cloud='demo',
                             json_out=True)['security_groups']
    assert sorted(g['name'] for g in groups) == ['default', 'ssh']
    cloud.openstack('security', 'group', 'rule', 'delete', rule['id'], cloud='demo')
    until(lambda: not tcp_open(ns, '10.10.0.50', 22), 20, 'tcp 22 closed with the rule gone')
    cloud.openstack('server', 'remove', 'security', 'group', 'net-vm1', 'ssh', cloud='demo')
    cloud.openstack('security', 'group', 'delete', 'ssh', cloud='demo')

    # A floating IP from the public network, reachable from the host.
    fip = cloud.openstack('floating', 'ip', 'create', 'public', cloud='demo',
                          json_out=True)['floating_ip_address']
    assert not ping(None, fip)
    cloud.openstack('server', 'add', 'floating', 'ip', 'net-vm1', fip, cloud='demo')
    until(lambda: ping(None, fip), 20, 'ping of the floating IP %s' % fip)
    assert addresses(cloud, 'net-vm1', 'demo') == {'net1': ['10.10.0.50', fip]}
    cloud.openstack('server', 'remove', 'floating', 'ip', 'net-vm1', fip, cloud='demo')
    until(lambda: not ping(None, fip), 20, 'the floating IP gone')
    cloud.openstack('floating', 'ip', 'delete', fip, cloud='demo')

    # A network with ports in use cannot go.
    r = cloud.openstack('network', 'delete', 'net1', cloud='demo', check=False)
    assert r.returncode != 0 and 'in use' in r.stderr
    cloud.openstack('server', 'delete', '--wait', 'net-vm1', 'net-vm2', cloud='demo')
    # The server made net-vm2's port and took it away; p1 was the user's: it stays.
    left = cloud.openstack('port', 'list', '--network', 'net1', '--device-owner',
                           'compute:nova', cloud='demo', json_out=True)
    assert left == []
    p1 = cloud.openstack('port', 'show', 'p1', cloud='demo', json_out=True)
    assert p1['device_id'] == '' and p1['fixed_ips'][0]['ip_address'] == '10.10.0.50'
    cloud.openstack('port', 'delete', 'p1', cloud='demo')


def test_projects_cannot_reach_each_other(cloud, image, net1, tmp_path):
    # demo's guest listens on net1; admin's guest on its own network tries
    # to ping demo's fixed address and fails, even with demo's ICMP open.
    cloud.openstack('network', 'create', 'net-admin', cloud='admin')
    cloud.openstack('subnet', 'create', '--network', 'net-admin', '--subnet-range',
                    '10.20.0.0/24', 'sub-admin', cloud='admin')
    demo_srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                               'm1.tiny', '--network', 'net1', '--wait', 'iso-demo2',
                               cloud='demo', json_out=True)
    target = addresses(cloud, 'iso-demo2', 'demo')['net1'][0]
    cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default',
                    cloud='demo', check=False)
    cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                    '--network', 'net-admin', '--user-data',
                    user_data(tmp_path, 'ping.sh', PING_SCRIPT.format(target=target, tries=3)),
                    '--wait', 'iso-admin', cloud='admin')
    out = wait_console(cloud, 'iso-admin', 'PING-RESULT', cloud_name='admin')
    assert 'PING-RESULT %s unreachable' % target in out, out[-1500:]
    # demo cannot put a port on the admin's network, nor see it.
    admin_net = cloud.openstack('network', 'show', 'net-admin', cloud='admin',
                                json_out=True)
    r = cloud.openstack('port', 'create', '--network', admin_net['id'], 'sneaky',
                        cloud='demo', check=False)
    assert r.returncode != 0 and 'no network found' in r.stderr.lower()
    names = [n['Name'] for n in cloud.openstack('network', 'list', cloud='demo',
                                                 json_out=True)]
    assert 'net-admin' not in names and 'net1' in names and 'public' in names
    cloud.openstack('server', 'delete', '--wait', 'iso-admin', cloud='admin')
    cloud.openstack('server', 'delete', '--wait', demo_srv['id'], cloud='demo')


def test_auto_network_and_interface_hot_plug(cloud, image):
    # No network option: the admin project has no network of its own left
    # after net-admin is gone, so the server lands on the shared "private".
    cloud.openstack('network', 'delete', 'net-admin', cloud='admin', check=False)
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.tiny', '--wait', 'auto-vm', cloud='admin', json_out=True)
    assert list(addresses(cloud, 'auto-vm', 'admin')) == ['private']
    out = wait_console(cloud, 'auto-vm', 'ALTOSTACK-READY', cloud_name='admin')
    assert 'source=dhcp' in out
    # Hot-plug a second NIC from another network, then take it out.
    cloud.openstack('network', 'create', 'net-hot', cloud='admin')
    cloud.openstack('subnet', 'create', '--network', 'net-hot', '--subnet-range',
                    '10.30.0.0/24', 'sub-hot', cloud='admin')
    cloud.openstack('server', 'add', 'network', 'auto-vm', 'net-hot', cloud='admin')
    ports = cloud.openstack('port', 'list', '--server', 'auto-vm', cloud='admin',
                            json_out=True)
    assert len(ports) == 2
    hot = [p for p in ports if p['Fixed IP Addresses'] and '10.30.0.' in
           json.dumps(p['Fixed IP Addresses'])][0]
    dom = 'altostack-%s' % srv['id']
    iflist = subprocess.run(VIRSH + ['domiflist', dom], capture_output=True, text=True).stdout
    assert hot['MAC Address'] in iflist, iflist
    assert set(addresses(cloud, 'auto-vm', 'admin')) == {'private', 'net-hot'}
    cloud.openstack('server', 'remove', 'port', 'auto-vm', hot['ID'], cloud='admin')
    iflist = subprocess.run(VIRSH + ['domiflist', dom], capture_output=True, text=True).stdout
    assert hot['MAC Address'] not in iflist, iflist
    assert list(addresses(cloud, 'auto-vm', 'admin')) == ['private']
    events = cloud.openstack('server', 'event', 'list', 'auto-vm', cloud='admin',
                             json_out=True)
    assert {'attach_interface', 'detach_interface'} <= {e['Action'] for e in events}
    cloud.openstack('server', 'delete', '--wait', 'auto-vm', cloud='admin')
    cloud.openstack('network', 'delete', 'net-hot', cloud='admin')


def test_network_bad_input(cloud, net1):
    r = cloud.openstack('subnet', 'create', '--network', 'net1', '--subnet-range',
                        '10.10.0.128/25', 'overlap', cloud='demo', check=False)
    assert r.returncode != 0 and 'overlaps' in r.stderr
    r = cloud.openstack('subnet', 'create', '--network', 'net1', '--subnet-range',
                        '10.10.300.0/24', 'bad', cloud='demo', check=False)
    assert r.returncode != 0 and '10.10.300.0/24' in r.stderr
    r = cloud.openstack('port', 'create', '--network', 'net1', '--fixed-ip',
                        'subnet=sub1,ip-address=10.99.0.5', 'outside', cloud='demo',
                        check=False)
    assert r.returncode != 0
    cloud.openstack('port', 'create', '--network', 'net1', '--fixed-ip',
                    'subnet=sub1,ip-address=10.10.0.77', 'taken1', cloud='demo')
    r = cloud.openstack('port', 'create', '--network', 'net1', '--fixed-ip',
                        'subnet=sub1,ip-address=10.10.0.77', 'taken2', cloud='demo',
                        check=False)
    assert r.returncode != 0 and 'already allocated' in r.stderr
    r = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                        'm1.tiny', '--nic', 'net-id=%s' % ('0' * 8 + '-0000-4000-8000-' +
                                                         '0' * 12),
                        'no-such-net', cloud='demo', check=False)
    assert r.returncode != 0 and 'no network found' in r.stderr.lower()
    assert 'no-such-net' not in cloud.openstack('server', 'list', cloud='demo')
    cloud.openstack('port', 'delete', 'taken1', cloud='demo')


def test_agent_restart_converges_the_data_plane(cloud, image):
    """Changes made while the compute agent is dead, and a DHCP server that
    died with it, are put right when the agent comes back."""
    cloud.openstack('network', 'create', 'net-fault', cloud='admin')
    cloud.openstack('subnet', 'create', '--network', 'net-fault', '--subnet-range',
                    '10.40.0.0/24', 'sub-fault', cloud='admin')
    cloud.openstack('router', 'create', '--external-gateway', 'public', 'router-fault',
                    cloud='admin')
    cloud.openstack('router', 'add', 'subnet', 'router-fault', 'sub-fault', cloud='admin')
    net = cloud.openstack('network', 'show', 'net-fault', cloud='admin', json_out=True)
    cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                    '--network', 'net-fault', '--wait', 'fault-vm', cloud='admin')
    # An admin sees every project's "default": name the admin project's by id.
    groups = cloud.openstack('security', 'group', 'list', '--project', 'admin',
                             cloud='admin', json_out=True)
    default = [g['ID'] for g in groups if g['Name'] == 'default'][0]
    cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', default,
                    cloud='admin')
    # The guest has its lease before its DHCP server dies (the tiny guest
    # asks only while it boots).
    wait_console(cloud, 'fault-vm', 'ALTOSTACK-READY', cloud_name='admin')
    dnsmasq = subprocess.run(['pgrep', '-f', 'dnsmasq.*%s' % net['id'][:11]],
                             capture_output=True, text=True).stdout.split()
    assert dnsmasq, 'no dnsmasq for the network'
    cloud.kill_service('compute')
    subprocess.run(['kill', '-9', *dnsmasq], check=True)
    fip = cloud.openstack('floating', 'ip', 'create', 'public', cloud='admin',
                          json_out=True)['floating_ip_address']
    queue = 'compute.%s' % cloud.host
    before = bus.queued(cloud, queue) or 0
    cloud.openstack('server', 'add', 'floating', 'ip', 'fault-vm', fip, cloud='admin')
    # The API made the change and its nudge waits for the dead agent...
    until(lambda: (bus.queued(cloud, queue) or 0) > before, 30, 'the nudge queued')
    assert not ping(None, fip)  # ...and nobody applied it yet
    cloud.start_service('compute')
    try:
        until(lambda: ping(None, fip), 60, 'the floating IP after the agent restarted')
    except AssertionError as e:
        rns = 'qrouter-%s' % net['id']
        diag = '\n'.join(subprocess.run(c, shell=True, capture_output=True, text=True).stdout
                         for c in ('ip -n %s addr' % rns, 'ip -n %s route' % rns,
                                   'ip netns exec %s nft list ruleset' % rns, 'ip neigh',
                                   'ip netns exec %s ping -c1 -W1 10.40.0.3' % rns,
                                   'nft list ruleset | head -80',
                                   'virsh -c qemu:///system list'))
        out = cloud.openstack('console', 'log', 'show', 'fault-vm', cloud='admin')
        raise AssertionError('%s; diag:\n%s\nconsole:\n%s\nagent:\n%s' % (
            e, diag, out[-1500:], cloud.log_tail('compute', 30))) from None
    until(lambda: subprocess.run(['pgrep', '-f', 'dnsmasq.*%s' % net['id'][:11]],
                                 capture_output=True).returncode == 0, 30, 'dnsmasq back')
    cloud.wait_all_up()
    cloud.openstack('server', 'delete', '--wait', 'fault-vm', cloud='admin')
    cloud.openstack('floating', 'ip', 'delete', fip, cloud='admin')
    cloud.openstack('router', 'remove', 'subnet', 'router-fault', 'sub-fault', cloud='admin')
    cloud.openstack('router', 'delete', 'router-fault', cloud='admin')
    cloud.openstack('network', 'delete', 'net-fault', cloud='admin')
