"""Routers through the real clients: the openstack CLI's router commands
(create, set --external-gateway, add/remove subnet, tags), projects kept
apart, and openstacksdk's cloud layer building a project network the
standard way (create_router with a gateway, add_router_interface, then
create_floating_ip(server=...) finding the network and router itself) with
one tiny guest reachable at its floating IP; and the host data plane of
routers with guests: SNAT out of the router's gateway, east-west between two
subnets of one router, two routers kept apart, no way out without a router."""

import ipaddress
import subprocess

import pytest

from tests.fixtures.netcheck import PINGS
from tests.fixtures.netcheck import ping
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_console


@pytest.fixture(scope='module', autouse=True)
def _icmp_rules_go(cloud):
    """The guests here open ICMP in demo's default group; the modules after
    this one expect the group as it was."""
    yield
    rules = cloud.openstack('security', 'group', 'rule', 'list', '--long', 'default',
                            cloud='demo', json_out=True)
    for rule in rules:
        if rule.get('IP Protocol') != 'icmp' or rule.get('Direction') != 'ingress':
            continue
        cloud.openstack('security', 'group', 'rule', 'delete', rule['ID'], cloud='demo',
                        check=False)


def test_router_commands(cloud):
    public = cloud.openstack('network', 'show', 'public', cloud='demo', json_out=True)
    cloud.openstack('network', 'create', 'rnet', cloud='demo')
    sub = cloud.openstack('subnet', 'create', '--network', 'rnet', '--subnet-range',
                          '10.30.0.0/24', 'rsub', cloud='demo', json_out=True)
    router = cloud.openstack('router', 'create', 'r-cli', cloud='demo', json_out=True)
    assert router['name'] == 'r-cli' and not router['external_gateway_info']
    cloud.openstack('router', 'set', '--external-gateway', 'public', 'r-cli', cloud='demo')
    cloud.openstack('router', 'add', 'subnet', 'r-cli', 'rsub', cloud='demo')
    shown = cloud.openstack('router', 'show', 'r-cli', cloud='demo', json_out=True)
    gw = shown['external_gateway_info']
    assert gw['network_id'] == public['id'] and gw['enable_snat'] is True
    pub_sub = cloud.openstack('subnet', 'show', public['subnets'][0], cloud='admin',
                              json_out=True)
    assert ipaddress.ip_address(gw['external_fixed_ips'][0]['ip_address']) in \
        ipaddress.ip_network(pub_sub['cidr'])
    ports = cloud.openstack('port', 'list', '--router', 'r-cli', '--long', cloud='demo',
                            json_out=True)
    fixed = [p['Fixed IP Addresses'] for p in ports]
    assert any('10.30.0.1' in str(f) for f in fixed), fixed
    # in use: neither the router nor its subnet go
    r = cloud.openstack('router', 'delete', 'r-cli', cloud='demo', check=False)
    assert r.returncode != 0 and 'still has ports' in r.stderr, r.stderr
    r = cloud.openstack('subnet', 'delete', 'rsub', cloud='demo', check=False)
    assert r.returncode != 0
    # tags on routers, and the list filter
    cloud.openstack('router', 'set', '--tag', 'blue', 'r-cli', cloud='demo')
    tagged = cloud.openstack('router', 'list', '--tags', 'blue', cloud='demo', json_out=True)
    assert [x['Name'] for x in tagged] == ['r-cli']
    # another project neither sees it nor attaches to it
    r = cloud.openstack('router', 'show', router['id'], cloud='admin', check=False)
    assert r.returncode == 0  # admins see every project's
    admin_router = cloud.openstack('router', 'create', 'r-admin', cloud='admin',
                                   json_out=True)
    r = cloud.openstack('router', 'add', 'subnet', admin_router['id'], sub['id'],
                        cloud='demo', check=False)
    assert r.returncode != 0
    names = [x['Name'] for x in cloud.openstack('router', 'list', cloud='demo',
                                                 json_out=True)]
    assert 'r-admin' not in names and 'r-cli' in names
    cloud.openstack('router', 'delete', 'r-admin', cloud='admin')
    # taken apart in order
    cloud.openstack('router', 'remove', 'subnet', 'r-cli', 'rsub', cloud='demo')
    cloud.openstack('router', 'unset', '--external-gateway', 'r-cli', cloud='demo')
    assert not cloud.openstack('router', 'show', 'r-cli', cloud='demo',
                               json_out=True)['external_gateway_info']
    cloud.openstack('router', 'delete', 'r-cli', cloud='demo')
    cloud.openstack('network', 'delete', 'rnet', cloud='demo')


@pytest.fixture
def sdk_network(cloud):
    """A project network built by openstacksdk's cloud layer: network,
    subnet, router with its gateway on public, router interface."""
    conn = cloud.sdk('demo')
    public = conn.get_network('public')
    net = conn.create_network('sdk-net')
    sub = conn.create_subnet(net['id'], cidr='10.31.0.0/24', subnet_name='sdk-sub',
                             ip_version=4)
    router = conn.create_router('sdk-router', ext_gateway_net_id=public['id'])
    assert router['external_gateway_info']['network_id'] == public['id']
    info = conn.add_router_interface(router, subnet_id=sub['id'])
    assert info['subnet_id'] == sub['id'] and info['id'] == router['id']
    yield conn, net, sub, router
    conn.remove_router_interface(router, subnet_id=sub['id'])
    conn.delete_router(router['id'])
    conn.delete_network(net['id'])


def test_sdk_router_and_floating_ip_of_a_guest(cloud, image, sdk_network):
    conn, net, _sub, router = sdk_network
    # POST /tags (add several), through the SDK's network proxy
    conn.network.add_tags(conn.network.get_router(router['id']), ['sdk', 'two'])
    assert sorted(conn.network.get_router(router['id']).tags) == ['sdk', 'two']
    cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default',
                    cloud='demo', check=False)
    cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                    '--network', 'sdk-net', '--wait', 'sdk-fip-vm', cloud='demo')
    try:
        wait_console(cloud, 'sdk-fip-vm', 'ALTOSTACK-READY', cloud_name='demo')
        server = conn.get_server('sdk-fip-vm')
        fip = conn.create_floating_ip(server=server, wait=True)
        assert fip['router_id'] == router['id']
        address = fip['floating_ip_address']
        until(lambda: ping(None, address), 30, 'ping of the floating IP %s' % address)
        conn.delete_floating_ip(fip['id'])
        until(lambda: not ping(None, address), 30, 'the floating IP gone')
    finally:
        cloud.openstack('server', 'delete', '--wait', 'sdk-fip-vm', cloud='demo',
                        check=False)


def _net(cloud, name, cidr, router=None):
    cloud.openstack('network', 'create', name, cloud='demo')
    cloud.openstack('subnet', 'create', '--network', name, '--subnet-range', cidr,
                    name + '-sub', cloud='demo')
    if router:
        cloud.openstack('router', 'add', 'subnet', router, name + '-sub', cloud='demo')


def _server(cloud, name, net, ip=None, script=None, tmp_path=None):
    args = ['server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny']
    if ip:
        cloud.openstack('port', 'create', '--network', net, '--fixed-ip',
                        'ip-address=%s' % ip, name + '-port', cloud='demo')
        args += ['--port', name + '-port']
    else:
        args += ['--network', net]
    if script:
        args += ['--user-data', user_data(tmp_path, name + '.sh', script)]
    cloud.openstack(*args, '--wait', name, cloud='demo')


def test_router_data_plane_snat_east_west_and_isolation(cloud, image, tmp_path):
    """Router A joins two subnets and has a gateway on public (SNAT on);
    router B has a third; a fourth network has no router. ra1-vm (no
    floating IP) reaches the public gateway through SNAT, ra2-vm on A's
    other subnet, and rb-vm at its floating IP, but not rb-vm's fixed
    address (another router); lone-vm reaches nothing outside."""
    public = cloud.openstack('network', 'show', 'public', cloud='demo', json_out=True)
    pub_sub = cloud.openstack('subnet', 'show', public['subnets'][0], cloud='admin',
                              json_out=True)
    gateway = pub_sub['gateway_ip']
    routers = {}
    for name in ('rt-a', 'rt-b'):
        routers[name] = cloud.openstack('router', 'create', '--external-gateway', 'public',
                                        name, cloud='demo', json_out=True)
    servers, fip = [], None
    try:
        _net(cloud, 'ra1', '10.51.0.0/24', 'rt-a')
        _net(cloud, 'ra2', '10.52.0.0/24', 'rt-a')
        _net(cloud, 'rb', '10.53.0.0/24', 'rt-b')
        _net(cloud, 'lone', '10.54.0.0/24')
        cloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp',
                        'default', cloud='demo', check=False)
        # the targets first
        _server(cloud, 'ra2-vm', 'ra2', ip='10.52.0.50')
        _server(cloud, 'rb-vm', 'rb', ip='10.53.0.50')
        servers += ['ra2-vm', 'rb-vm']
        fip = cloud.openstack('floating', 'ip', 'create', 'public', cloud='demo',
                              json_out=True)['floating_ip_address']
        for name in ('ra2-vm', 'rb-vm'):
            wait_console(cloud, name, 'ALTOSTACK-READY', timeout=240)
        cloud.openstack('server', 'add', 'floating', 'ip', 'rb-vm', fip, cloud='demo')
        until(lambda: ping(None, fip), 30, 'the floating IP of rb-vm')
        _server(cloud, 'ra1-vm', 'ra1', script=PINGS.format(targets=' '.join([
            '%s:60' % gateway, '10.52.0.50:30', '%s:30' % fip, '10.53.0.50:4'])),
            tmp_path=tmp_path)
        _server(cloud, 'lone-vm', 'lone', script=PINGS.format(targets='%s:4' % gateway),
                tmp_path=tmp_path)
        servers += ['ra1-vm', 'lone-vm']
        out = wait_console(cloud, 'ra1-vm', 'PINGS-DONE', timeout=300)
        assert 'PING-RESULT %s reached' % gateway in out, out[-1500:]     # SNAT
        assert 'PING-RESULT 10.52.0.50 reached' in out, out[-1500:]       # east-west
        assert 'PING-RESULT %s reached' % fip in out, out[-1500:]         # rb-vm is up
        assert 'PING-RESULT 10.53.0.50 unreachable' in out, out[-1500:]   # router B's
        out = wait_console(cloud, 'lone-vm', 'PINGS-DONE', timeout=300)
        assert 'PING-RESULT %s unreachable' % gateway in out, out[-1500:]
        # one namespace per router, a leg per interface
        for name, legs in (('rt-a', 2), ('rt-b', 1)):
            ns = 'qrouter-%s' % routers[name]['id']
            links = subprocess.run(['ip', '-n', ns, '-o', 'link'], capture_output=True,
                                   text=True).stdout
            assert links.count(': qr-') == legs and links.count(': qg-') == 1, links
    finally:
        if servers:
            cloud.openstack('server', 'delete', '--wait', *servers, cloud='demo',
                            check=False)
        if fip:
            cloud.openstack('floating', 'ip', 'delete', fip, cloud='demo', check=False)
        for name in ('ra2-vm', 'rb-vm'):
            cloud.openstack('port', 'delete', name + '-port', cloud='demo', check=False)
        for router, net in (('rt-a', 'ra1'), ('rt-a', 'ra2'), ('rt-b', 'rb')):
            cloud.openstack('router', 'remove', 'subnet', router, net + '-sub',
                            cloud='demo', check=False)
        for name in routers:
            cloud.openstack('router', 'delete', name, cloud='demo', check=False)
        for net in ('ra1', 'ra2', 'rb', 'lone'):
            cloud.openstack('network', 'delete', net, cloud='demo', check=False)
    # the hosts heard: no namespace of either router is left
    until(lambda: not any(r['id'] in subprocess.run(
        ['ip', 'netns', 'list'], capture_output=True, text=True).stdout
        for r in routers.values()), 30, 'the router namespaces gone')
