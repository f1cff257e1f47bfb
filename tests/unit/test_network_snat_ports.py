"""Centralized SNAT ports (network/snat.py): one
'network:router_centralized_snat' port per IPv4 interface subnet of a
router with a gateway and enable_snat, with an address and MAC of its own,
shown to admins only (project ''), bound to the host whose agent reports
an external gateway; gone with the interface, the gateway or SNAT; and what
the host state says of them (the SNAT host runs the router, its peers
tunnel to it)."""

import pytest

from network import ports
from network import snat
from network import state as netstate
from scheduler import claims
from tests.fixtures.network_api import _alloc

CSNAT = 'network:router_centralized_snat'

pytestmark = pytest.mark.usefixtures('casts')


def csnat_ports(admin, router_id):
    return admin.get('/ports?device_id=%s&device_owner=%s' % (router_id, CSNAT))['ports']


def report(host, n, external_gateway):
    claims.update_node(host, {'hypervisor_hostname': host, 'hypervisor_type': 'QEMU',
                              'vcpus': 1, 'memory_mb': 512, 'local_gb': 1,
                              'host_ip': '192.0.2.%d' % n,
                              'external_gateway': external_gateway})


def _router(demo, pub, cidrs=('10.1.0.0/24',)):
    subs = []
    for k, cidr in enumerate(cidrs):
        net = demo.network('n%d' % k)
        subs.append(demo.subnet(net['id'], cidr=cidr))
    router = demo.router(gateway=pub['id'], subnets=[s['id'] for s in subs])
    return router, subs


def test_one_port_per_subnet_with_its_own_address_and_mac(demo, admin, public):
    pub, _priv = public
    router, (sub_a, sub_b) = _router(demo, pub, ('10.1.0.0/24', '10.2.0.0/24'))
    found = csnat_ports(admin, router['id'])
    assert sorted(p['fixed_ips'][0]['subnet_id'] for p in found) == sorted(
        [sub_a['id'], sub_b['id']])
    itfs = {p['fixed_ips'][0]['ip_address']: p['mac_address']
            for p in admin.get('/ports?device_id=%s&device_owner=network:router_interface'
                               % router['id'])['ports']}
    for p in found:
        assert p['project_id'] == '' and p['tenant_id'] == '' and p['name'] == ''
        assert p['device_id'] == router['id'] and p['admin_state_up'] is True
        ip = p['fixed_ips'][0]['ip_address']
        assert ip not in itfs and ip not in ('10.1.0.1', '10.2.0.1')
        assert p['mac_address'] not in itfs.values()
    # Like Neutron's, the router's project does not see them; admins do.
    assert not [p for p in demo.get('/ports')['ports'] if p['device_owner'] == CSNAT]
    # They are the router's: the port API does not delete them.
    admin.delete('/ports/%s' % found[0]['id'], status=409)


def test_ports_follow_gateway_snat_and_interfaces(demo, admin, public):
    pub, _priv = public
    net = demo.network('n')
    sub = demo.subnet(net['id'], cidr='10.1.0.0/24')
    router = demo.router(subnets=[sub['id']])
    assert csnat_ports(admin, router['id']) == []             # no gateway, no SNAT
    rid = router['id']
    demo.put('/routers/%s' % rid, {'router': {'external_gateway_info': {
        'network_id': pub['id']}}})
    (port,) = csnat_ports(admin, rid)
    assert port['network_id'] == net['id']
    admin.put('/routers/%s' % rid, {'router': {'external_gateway_info': {
        'network_id': pub['id'], 'enable_snat': False}}})
    assert csnat_ports(admin, rid) == []                       # SNAT off
    admin.put('/routers/%s' % rid, {'router': {'external_gateway_info': {
        'network_id': pub['id'], 'enable_snat': True}}})
    assert len(csnat_ports(admin, rid)) == 1
    demo.put('/routers/%s/remove_router_interface' % rid, {'subnet_id': sub['id']})
    assert csnat_ports(admin, rid) == []                       # the interface went
    demo.put('/routers/%s/add_router_interface' % rid, {'subnet_id': sub['id']})
    assert len(csnat_ports(admin, rid)) == 1
    demo.put('/routers/%s' % rid, {'router': {'external_gateway_info': {}}})
    assert csnat_ports(admin, rid) == []                       # the gateway went
    # and the addresses came back to the pool: the subnet can be emptied
    demo.put('/routers/%s/remove_router_interface' % rid, {'subnet_id': sub['id']})
    demo.delete('/routers/%s' % rid)
    demo.delete('/networks/%s' % net['id'])


def test_bound_to_the_host_with_the_external_gateway(demo, admin, public, casts):
    pub, _priv = public
    report('h2', 2, False)
    router, (sub,) = _router(demo, pub)
    (port,) = csnat_ports(admin, router['id'])
    assert port['binding:host_id'] == ''                      # nobody serves SNAT yet
    # h1 reports its external gateway: the ports are bound there, made for
    # routers that lack them, and the hosts concerned are told.
    vm, (p2,) = _alloc(demo, [{'uuid': sub['network_id']}])
    ports.bind_instance_ports(vm, 'h2')
    report('h1', 1, True)
    assert snat.rebind() == {'h1', 'h2'}
    assert csnat_ports(admin, router['id'])[0]['binding:host_id'] == 'h1'
    assert snat.rebind() == set()                              # nothing moved
    # a new router's ports are bound at once
    net = demo.network('later')
    later = demo.subnet(net['id'], cidr='10.9.0.0/24')
    r2 = demo.router(gateway=pub['id'], subnets=[later['id']])
    assert csnat_ports(admin, r2['id'])[0]['binding:host_id'] == 'h1'
    # h1 runs the router although no guest of it is there, and is h2's
    # VXLAN peer on the subnet's network
    state = netstate.host_state('h1')
    (rt,) = [r for r in state['routers'] if r['id'] == router['id']]
    assert [p['port_id'] for p in rt['snat_ports']] == [port['id']]
    assert rt['snat_ports'][0]['host'] == 'h1'
    assert rt['snat_ports'][0]['fixed_ips'] == [{
        'subnet_id': sub['id'], 'ip_address': port['fixed_ips'][0]['ip_address'],
        'cidr': '10.1.0.0/24'}]
    peers = {n['id']: n['vxlan'] for n in state['networks'] if n['vxlan']}
    assert peers[sub['network_id']]['peers'] == ['192.0.2.2']
    peers = {n['id']: n['vxlan'] for n in netstate.host_state('h2')['networks']
             if n['vxlan']}
    assert peers[sub['network_id']]['peers'] == ['192.0.2.1']
    (rt2,) = [r for r in netstate.host_state('h2')['routers'] if r['id'] == router['id']]
    assert rt2['snat_ports'] == rt['snat_ports']
    # router changes reach the SNAT host too, and the hosts that lose it
    assert netstate.hosts_for_router(router['id']) == {'h1', 'h2'}
    casts.clear()
    demo.put('/routers/%s' % router['id'], {'router': {'external_gateway_info': {}}})
    assert sorted(set(casts)) == ['h1', 'h2']
    assert netstate.hosts_for_router(router['id']) == {'h2'}
    # another host takes over: the ports move
    demo.put('/routers/%s' % router['id'], {'router': {'external_gateway_info': {
        'network_id': pub['id']}}})
    report('h1', 1, False)
    report('h2', 2, True)
    assert 'h1' in snat.rebind()
    assert {p['binding:host_id'] for p in csnat_ports(admin, router['id'])} == {'h2'}


def test_a_host_report_of_its_external_gateway_rebinds(admin, monkeypatch):
    from scheduler import manager
    called, refreshed = [], []
    monkeypatch.setattr(manager.snat, 'rebind', lambda: called.append(1) or {'hx'})
    monkeypatch.setattr(manager.notify, 'refresh_hosts', lambda ctx, h: refreshed.append(h))
    mgr = manager.SchedulerManager.__new__(manager.SchedulerManager)
    res = {'hypervisor_hostname': 'hx', 'hypervisor_type': 'QEMU', 'vcpus': 1,
           'memory_mb': 512, 'local_gb': 1, 'host_ip': '192.0.2.9',
           'external_gateway': True}
    mgr.update_compute_node(None, 'hx', res)          # a new host
    mgr.update_compute_node(None, 'hx', res)          # the same again: nothing
    assert called == [1] and refreshed == [{'hx'}]
    mgr.update_compute_node(None, 'hx', dict(res, external_gateway=False))
    assert called == [1, 1]
