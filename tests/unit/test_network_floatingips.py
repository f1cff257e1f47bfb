"""Floating IPs through the API, and the refresh casts that follow changes."""

import pytest

from network import notify

pytestmark = pytest.mark.usefixtures('casts')


@pytest.fixture
def vm_port(demo, admin, casts, public):
    """A demo server port on demo's own network, bound to host h1; demo's
    router joins the network to public."""
    net = demo.network('vmnet')
    sub = demo.subnet(net['id'], cidr='10.10.0.0/24')
    router = demo.post('/routers', {'router': {'name': 'r', 'external_gateway_info': {
        'network_id': public[0]['id']}}})['router']
    demo.put('/routers/%s/add_router_interface' % router['id'], {'subnet_id': sub['id']})
    port = demo.port(net['id'], device_id='vm-1', device_owner='compute:nova')
    admin.put('/ports/%s' % port['id'], {'port': {'binding:host_id': 'h1'}})
    assert casts == ['h1']  # bound: its host hears of it
    casts.clear()
    return port, sub


def _fip(api, network_id, status=201, **kw):
    r = api.post('/floatingips', {'floatingip': dict(floating_network_id=network_id, **kw)},
                 status=status)
    return r['floatingip'] if status == 201 else r['NeutronError']


def test_create_show_list_delete(demo, other, public):
    pub, priv = public  # router1's gateway holds 172.24.4.10
    fip = _fip(demo, pub['id'])
    for key, value in {'floating_ip_address': '172.24.4.11', 'floating_network_id': pub['id'],
                       'router_id': None, 'port_id': None, 'fixed_ip_address': None,
                       'status': 'DOWN', 'project_id': demo.project_id, 'description': '',
                       'tags': [], 'port_details': None, 'dns_domain': '', 'dns_name': '',
                       'revision_number': 1}.items():
        assert fip[key] == value, key
    # no QoS extension is announced: no QoS key shown, nor taken
    assert 'qos_policy_id' not in fip
    err = _fip(demo, pub['id'], status=400, qos_policy_id=None)
    assert 'qos_policy_id' in err['message']
    assert _fip(demo, pub['id'])['floating_ip_address'] == '172.24.4.12'
    assert demo.get('/floatingips/%s' % fip['id'])['floatingip']['id'] == fip['id']
    demo.get('/floatingips/172.24.4.11', status=404)
    assert len(demo.get('/floatingips')['floatingips']) == 2
    assert [f['id'] for f in demo.get('/floatingips?floating_ip_address=172.24.4.11')[
        'floatingips']] == [fip['id']]
    assert other.get('/floatingips')['floatingips'] == []
    other.get('/floatingips/%s' % fip['id'], status=404)
    demo.delete('/floatingips/%s' % fip['id'])
    assert _fip(demo, pub['id'])['floating_ip_address'] == '172.24.4.11'  # reused
    err = _fip(demo, priv['id'], status=400)
    assert err == {'type': 'BadRequest', 'detail': '', 'message':
                   'Bad floatingip request: Network %s is not a valid external network.'
                   % priv['id']}


def test_addresses_and_exhaustion(admin, demo):
    ext = admin.network('ext', **{'router:external': True})
    admin.subnet(ext['id'], cidr='203.0.113.0/29', enable_dhcp=False,
                 allocation_pools=[{'start': '203.0.113.2', 'end': '203.0.113.3'}])
    assert _fip(admin, ext['id'], floating_ip_address='203.0.113.5')[
        'floating_ip_address'] == '203.0.113.5'
    err = _fip(admin, ext['id'], status=409, floating_ip_address='203.0.113.5')
    assert err['type'] == 'IpAddressAlreadyAllocated'
    _fip(admin, ext['id'], status=400, floating_ip_address='198.51.100.1')
    # only admins pick the address (Neutron's policy)
    assert _fip(demo, ext['id'], status=403, floating_ip_address='203.0.113.6')[
        'type'] == 'PolicyNotAuthorized'
    _fip(demo, ext['id'])
    _fip(demo, ext['id'])
    assert _fip(demo, ext['id'], status=409)['type'] == 'IpAddressGenerationFailure'
    empty = admin.network('ext2', **{'router:external': True})
    assert 'does not contain any IPv4 subnet' in _fip(admin, empty['id'], status=400)[
        'message']


def test_associate_disassociate(demo, admin, public, vm_port, casts):
    pub, _priv = public
    port, sub = vm_port
    fip = _fip(demo, pub['id'])
    upd = demo.put('/floatingips/%s' % fip['id'], {'floatingip': {
        'port_id': port['id']}})['floatingip']
    assert (upd['port_id'], upd['fixed_ip_address'], upd['status']) == \
        (port['id'], port['fixed_ips'][0]['ip_address'], 'ACTIVE')
    assert upd['port_details'] == {
        'name': '', 'network_id': port['network_id'], 'mac_address': port['mac_address'],
        'admin_state_up': True, 'status': 'ACTIVE', 'device_id': 'vm-1',
        'device_owner': 'compute:nova'}
    assert casts == ['h1']
    assert [f['id'] for f in demo.get('/floatingips?port_id=%s' % port['id'])[
        'floatingips']] == [fip['id']]
    second = _fip(demo, pub['id'])
    err = demo.error('PUT', '/floatingips/%s' % second['id'], {'floatingip': {
        'port_id': port['id']}}, status=409)
    assert err['type'] == 'FloatingIPPortAlreadyAssociated'
    demo.error('PUT', '/floatingips/%s' % second['id'], {'floatingip': {
        'port_id': port['id'], 'fixed_ip_address': '10.10.0.99'}})
    upd = demo.put('/floatingips/%s' % fip['id'], {'floatingip': {
        'port_id': None}})['floatingip']
    assert (upd['port_id'], upd['fixed_ip_address'], upd['status'], upd['port_details']) == \
        (None, None, 'DOWN', None)
    assert casts == ['h1', 'h1']
    # the server's addresses show the floating IP after its fixed one
    demo.put('/floatingips/%s' % fip['id'], {'floatingip': {'port_id': port['id']}})
    from network import ports
    addrs = ports.addresses(['vm-1'])['vm-1']['vmnet']
    assert [(a['addr'], a['OS-EXT-IPS:type']) for a in addrs] == [
        (port['fixed_ips'][0]['ip_address'], 'fixed'), (fip['floating_ip_address'],
                                                        'floating')]
    # deleting the port disassociates it
    demo.delete('/ports/%s' % port['id'])
    after = demo.get('/floatingips/%s' % fip['id'])['floatingip']
    assert (after['port_id'], after['fixed_ip_address']) == (None, None)


def test_association_rules(demo, other, admin, public, vm_port):
    pub, priv = public
    port, sub = vm_port
    fip = _fip(demo, pub['id'])
    theirs_net = other.network()
    other.subnet(theirs_net['id'])
    theirs = other.port(theirs_net['id'])
    demo.error('PUT', '/floatingips/%s' % fip['id'], {'floatingip': {
        'port_id': theirs['id']}}, status=404)
    nogw_net = demo.network()
    demo.subnet(nogw_net['id'], cidr='10.20.0.0/24', gateway_ip=None)
    nogw = demo.port(nogw_net['id'])
    err = demo.error('PUT', '/floatingips/%s' % fip['id'], {'floatingip': {
        'port_id': nogw['id']}}, status=404)
    assert err['type'] == 'ExternalGatewayForFloatingIPNotFound'
    noip = demo.port(port['network_id'], fixed_ips=[])
    assert 'no fixed IPv4' in demo.error('PUT', '/floatingips/%s' % fip['id'], {
        'floatingip': {'port_id': noip['id']}})['message']
    assert 'without a port_id' in demo.error('PUT', '/floatingips/%s' % fip['id'], {
        'floatingip': {'fixed_ip_address': '10.10.0.2'}})['message']
    created = _fip(demo, pub['id'], port_id=port['id'])
    assert created['status'] == 'ACTIVE'


def test_refresh_casts_and_dead_bus(demo, admin, vm_port, casts, monkeypatch):
    port, _sub = vm_port
    group_id = port['security_groups'][0]
    rule = demo.post('/security-group-rules', {'security_group_rule': {
        'security_group_id': group_id, 'direction': 'ingress', 'protocol': 'tcp',
        'port_range_min': 22, 'port_range_max': 22}})['security_group_rule']
    assert casts == ['h1']
    demo.delete('/security-group-rules/%s' % rule['id'])
    assert casts == ['h1', 'h1']
    demo.put('/ports/%s' % port['id'], {'port': {'name': 'renamed'}})
    assert casts == ['h1', 'h1']  # a name is nothing a host enforces
    demo.put('/ports/%s' % port['id'], {'port': {'security_groups': []}})
    assert casts == ['h1', 'h1', 'h1']

    class DeadBus:
        def refresh_network(self, context, host):
            raise ConnectionError('broker gone')

    monkeypatch.setattr(notify.compute_rpcapi, 'ComputeAPI', DeadBus)
    demo.put('/ports/%s' % port['id'], {'port': {'security_groups': [group_id]}})
    demo.delete('/ports/%s' % port['id'])


def test_dns_name_and_domain(demo, public):
    """dns-integration: set together at create, checked, kept, shown."""
    pub, _priv = public
    fip = _fip(demo, pub['id'], dns_name='myfip', dns_domain='example.org.')
    assert (fip['dns_name'], fip['dns_domain']) == ('myfip', 'example.org.')
    shown = demo.get('/floatingips/%s' % fip['id'])['floatingip']
    assert (shown['dns_name'], shown['dns_domain']) == ('myfip', 'example.org.')
    for kw, words in (({'dns_name': 'myfip'}, 'without a dns_domain'),
                      ({'dns_domain': 'example.org.'}, 'without a dns_name'),
                      ({'dns_name': 'my.fip.', 'dns_domain': 'example.org.'}, 'FQDN'),
                      ({'dns_name': '-bad', 'dns_domain': 'example.org.'}, 'DNS label'),
                      ({'dns_name': 'a', 'dns_domain': 'example.123'}, 'numeric')):
        assert words in _fip(demo, pub['id'], status=400, **kw)['message'], kw
    err = demo.put('/floatingips/%s' % fip['id'], {'floatingip': {'dns_name': 'x'}},
                   status=400)['NeutronError']
    assert 'dns_name' in err['message']
