"""Routers through the real clients: the openstack CLI's router commands
(create, set --external-gateway, add/remove subnet, tags), projects kept
apart, and openstacksdk's cloud layer building a project network the
standard way (create_router with a gateway, add_router_interface, then
create_floating_ip(server=...) finding the network and router itself) with
one tiny guest reachable at its floating IP."""

import ipaddress

import pytest

from tests.functional.test_networks_cli import ping
from tests.functional.test_networks_cli import until
from tests.functional.test_servers_cli import wait_console


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
