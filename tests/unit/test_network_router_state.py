"""The routers section of the host state (network/state.py) and the
refresh_network casts a router change sends to the hosts that run it."""

import pytest

from network import ports
from network import state as netstate
from scheduler import claims
from tests.fixtures.network_api import _alloc

pytestmark = pytest.mark.usefixtures('casts')


def _two_subnets_one_router(demo, pub):
    net_a, net_b = demo.network('a'), demo.network('b')
    sub_a = demo.subnet(net_a['id'], cidr='10.1.0.0/24')
    sub_b = demo.subnet(net_b['id'], cidr='10.2.0.0/24')
    router = demo.post('/routers', {'router': {'name': 'r', 'external_gateway_info': {
        'network_id': pub['id']}}})['router']
    for sub in (sub_a, sub_b):
        demo.put('/routers/%s/add_router_interface' % router['id'], {'subnet_id': sub['id']})
    return net_a, net_b, sub_a, sub_b, router


def test_routers_in_the_host_state(demo, admin, public):
    pub, _priv = public
    net_a, net_b, sub_a, sub_b, router = _two_subnets_one_router(demo, pub)
    lone = demo.network('lone')
    demo.subnet(lone['id'], cidr='10.3.0.0/24')
    vm1, (p1,) = _alloc(demo, [{'uuid': net_a['id'], 'fixed_ip': '10.1.0.11'}])
    vm2, (p2,) = _alloc(demo, [{'uuid': net_b['id'], 'fixed_ip': '10.2.0.11'}])
    vm3, (p3,) = _alloc(demo, [{'uuid': lone['id']}])
    ports.bind_instance_ports(vm1, 'h1')
    ports.bind_instance_ports(vm2, 'h2')
    ports.bind_instance_ports(vm3, 'h3')
    fip = demo.post('/floatingips', {'floatingip': {'floating_network_id': pub['id'],
                                                    'port_id': p1['id']}})['floatingip']
    demo.put('/routers/%s' % router['id'], {'router': {'routes': [
        {'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}]}})
    legs = {p['fixed_ips'][0]['subnet_id']: p for p in admin.get(
        '/ports?device_id=%s' % router['id'])['ports']
        if p['device_owner'] != 'network:router_centralized_snat'}
    gw_ip = router['external_gateway_info']['external_fixed_ips'][0]['ip_address']
    # its centralized SNAT ports (no host reported an external gateway: unbound)
    csnat = {p['fixed_ips'][0]['subnet_id']: p for p in admin.get(
        '/ports?device_id=%s&device_owner=network:router_centralized_snat'
        % router['id'])['ports']}
    assert sorted(csnat) == sorted([sub_a['id'], sub_b['id']])

    state = netstate.host_state('h1')
    (rt,) = state['routers']                          # not bootstrap's router1
    # the router's other network is here too: its leg reaches h2's guest
    assert [n['id'] for n in state['networks']] == [pub['id'], net_a['id'], net_b['id']]
    guests = {sub_a['id']: [{'ip_address': '10.1.0.11', 'mac_address': p1['mac_address']}],
              sub_b['id']: [{'ip_address': '10.2.0.11', 'mac_address': p2['mac_address']}]}
    assert rt == {
        'id': router['id'], 'enable_snat': True,
        'routes': [{'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}],
        'interfaces': [
            {'port_id': legs[sub['id']]['id'], 'network_id': sub['network_id'],
             'mac_address': legs[sub['id']]['mac_address'],
             'fixed_ips': [{'subnet_id': sub['id'], 'ip_address': sub['gateway_ip'],
                            'cidr': sub['cidr']}],
             'neighbours': guests[sub['id']]} for sub in (sub_a, sub_b)],
        'gateway': {'port_id': legs[pub['subnets'][0]]['id'], 'network_id': pub['id'],
                    'fixed_ips': [{'subnet_id': pub['subnets'][0], 'ip_address': gw_ip,
                                   'cidr': '172.24.4.0/24', 'gateway_ip': '172.24.4.1'}]},
        'snat_ports': [
            {'port_id': csnat[sub['id']]['id'], 'network_id': sub['network_id'],
             'mac_address': csnat[sub['id']]['mac_address'], 'host': None,
             'fixed_ips': [{'subnet_id': sub['id'],
                            'ip_address': csnat[sub['id']]['fixed_ips'][0]['ip_address'],
                            'cidr': sub['cidr']}]} for sub in (sub_a, sub_b)],
        'floating_ips': [{'id': fip['id'], 'port_id': p1['id'],
                          'floating_ip_address': fip['floating_ip_address'],
                          'fixed_ip_address': '10.1.0.11'}]}
    # h2 runs the same router, without h1's floating IP
    (rt2,) = netstate.host_state('h2')['routers']
    assert rt2 == dict(rt, floating_ips=[])
    # a network with no router: no router at all
    assert netstate.host_state('h3')['routers'] == []
    assert netstate.hosts_for_router(router['id']) == {'h1', 'h2'}
    # a guest coming or going on net_b concerns h1 too (its leg's neighbours)
    assert netstate.hosts_for_port_networks([p2['id']]) == {'h1', 'h2'}
    assert netstate.hosts_for_host_networks('h2') == {'h1', 'h2'}
    assert netstate.hosts_for_port_networks([p3['id']]) == {'h3'}
    assert netstate.hosts_for_router(None) == set()
    # VXLAN: h2 runs the router too, so it is h1's peer on net_a (where h2
    # has no port: the replies its router sends there) as well as on net_b
    for n, name in ((1, 'h1'), (2, 'h2'), (3, 'h3')):
        claims.update_node(name, {'hypervisor_hostname': name, 'hypervisor_type': 'QEMU',
                                  'vcpus': 1, 'memory_mb': 512, 'local_gb': 1,
                                  'host_ip': '192.0.2.%d' % n})
    for name, other in (('h1', '192.0.2.2'), ('h2', '192.0.2.1')):
        peers = {n['id']: n['vxlan']['peers'] for n in netstate.host_state(name)['networks']
                 if n['vxlan']}
        assert peers == {net_a['id']: [other], net_b['id']: [other]}, name
    assert [n['vxlan']['peers'] for n in netstate.host_state('h3')['networks']
            if n['vxlan']] == [[]]


def test_router_changes_refresh_the_hosts_that_run_it(demo, admin, public, casts):
    pub, _priv = public
    net_a, net_b, sub_a, sub_b, router = _two_subnets_one_router(demo, pub)
    assert casts == []                       # nobody runs it yet
    vm1, _p = _alloc(demo, [{'uuid': net_a['id']}])
    ports.bind_instance_ports(vm1, 'h1')
    casts.clear()
    rid = router['id']
    demo.put('/routers/%s' % rid, {'router': {'routes': [
        {'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}]}})
    assert casts == ['h1']
    casts.clear()
    demo.put('/routers/%s/remove_extraroutes' % rid, {'router': {'routes': [
        {'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}]}})
    demo.put('/routers/%s/add_extraroutes' % rid, {'router': {'routes': []}})
    assert casts == ['h1', 'h1']
    casts.clear()
    demo.put('/routers/%s' % rid, {'router': {'name': 'renamed'}})
    assert casts == []                       # a name changes nothing on a host
    admin.put('/routers/%s' % rid, {'router': {'external_gateway_info': {}}})
    assert casts == ['h1']                   # gateway cleared
    casts.clear()
    demo.put('/routers/%s' % rid, {'router': {'external_gateway_info': {
        'network_id': pub['id']}}})
    assert casts == ['h1']                   # and set again
    casts.clear()
    # the interface h1's network hangs on: h1 hears before it is gone
    demo.put('/routers/%s/remove_router_interface' % rid, {'subnet_id': sub_a['id']})
    assert casts == ['h1'] and netstate.hosts_for_router(rid) == set()
    casts.clear()
    demo.put('/routers/%s/add_router_interface' % rid, {'subnet_id': sub_a['id']})
    assert casts == ['h1']
