"""Ports through the API: fields, addresses, MACs, filters, updates,
security groups on ports, quotas."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


def _net(api, cidr='10.1.0.0/24'):
    net = api.network()
    return net, api.subnet(net['id'], cidr=cidr)


def test_port_fields(demo, admin):
    net, sub = _net(demo)
    port = demo.port(net['id'], name='p1')
    default = next(g for g in demo.get('/security-groups')['security_groups']
                   if g['name'] == 'default')
    for key, value in {'name': 'p1', 'network_id': net['id'], 'device_id': '',
                       'device_owner': '', 'status': 'DOWN', 'admin_state_up': True,
                       'security_groups': [default['id']], 'port_security_enabled': True,
                       'allowed_address_pairs': [], 'extra_dhcp_opts': [],
                       'binding:vnic_type': 'normal', 'dns_name': '', 'tags': [],
                       'description': '', 'project_id': demo.project_id,
                       'tenant_id': demo.project_id, 'revision_number': 1}.items():
        assert port[key] == value, key
    assert port['fixed_ips'] == [{'subnet_id': sub['id'], 'ip_address': '10.1.0.2'}]
    assert port['mac_address'].startswith('fa:16:3e:')
    assert port['dns_assignment'] == [{'hostname': 'host-10-1-0-2', 'ip_address': '10.1.0.2',
                                       'fqdn': 'host-10-1-0-2.openstacklocal.'}]
    assert 'binding:host_id' not in port  # admins only
    seen = admin.get('/ports/%s' % port['id'])['port']
    assert (seen['binding:host_id'], seen['binding:vif_type'], seen['binding:vif_details'],
            seen['binding:profile']) == ('', 'unbound', {}, {})
    bound = admin.put('/ports/%s' % port['id'], {'port': {
        'binding:host_id': 'h1', 'device_id': 'vm1', 'device_owner': 'compute:nova'}})['port']
    assert (bound['status'], bound['binding:vif_type']) == ('ACTIVE', 'bridge')
    err = demo.error('PUT', '/ports/%s' % port['id'], {'port': {'binding:host_id': 'h2'}},
                     status=403)
    assert err['type'] == 'PolicyNotAuthorized'


def test_fixed_ips_and_macs(demo):
    net, sub = _net(demo)
    sub2 = demo.subnet(net['id'], cidr='10.2.0.0/24')
    p = demo.port(net['id'], fixed_ips=[{'subnet_id': sub2['id']},
                                        {'ip_address': '10.1.0.77'}])
    assert sorted(f['ip_address'] for f in p['fixed_ips']) == ['10.1.0.77', '10.2.0.2']
    err = demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'fixed_ips': [
        {'ip_address': '10.1.0.77'}]}}, status=409)
    assert err == {'type': 'IpAddressAlreadyAllocated', 'detail': '',
                   'message': 'IP address 10.1.0.77 already allocated in subnet %s'
                   % sub['id']}
    err = demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'fixed_ips': [
        {'subnet_id': sub['id'], 'ip_address': '10.2.0.9'}]}})
    assert err['type'] == 'InvalidIpForSubnet'
    assert err['message'] == 'IP address 10.2.0.9 is not a valid IP for the specified subnet.'
    err = demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'fixed_ips': [
        {'ip_address': '192.168.1.1'}]}})
    assert err['type'] == 'InvalidIpForNetwork'
    for ip in ('10.1.0.0', '10.1.0.255'):  # network and broadcast addresses
        demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'fixed_ips': [
            {'subnet_id': sub['id'], 'ip_address': ip}]}})
    # the gateway is the router's
    demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'fixed_ips': [
        {'ip_address': '10.1.0.1'}]}}, status=409)
    p2 = demo.port(net['id'], mac_address='fa:16:3e:aa:bb:cc', fixed_ips=[])
    assert p2['fixed_ips'] == [] and p2['mac_address'] == 'fa:16:3e:aa:bb:cc'
    err = demo.error('POST', '/ports', {'port': {'network_id': net['id'],
                                                 'mac_address': 'fa:16:3e:aa:bb:cc'}},
                     status=409)
    assert err['type'] == 'MacAddressInUse'
    demo.error('POST', '/ports', {'port': {'network_id': net['id'], 'mac_address': 'nope'}})
    macs = {demo.port(net['id'], fixed_ips=[])['mac_address'] for _ in range(20)}
    assert len(macs) == 20


def test_port_update_fixed_ips_and_groups(demo):
    net, sub = _net(demo)
    sg = demo.post('/security-groups', {'security_group': {'name': 'web'}})['security_group']
    port = demo.port(net['id'])
    upd = demo.put('/ports/%s' % port['id'], {'port': {
        'fixed_ips': [{'ip_address': '10.1.0.2'}, {'ip_address': '10.1.0.9'}],
        'security_groups': [sg['id']], 'name': 'x'}})['port']
    assert [f['ip_address'] for f in upd['fixed_ips']] == ['10.1.0.2', '10.1.0.9']
    assert upd['security_groups'] == [sg['id']] and upd['revision_number'] == 2
    upd = demo.put('/ports/%s' % port['id'], {'port': {
        'fixed_ips': [{'subnet_id': sub['id'], 'ip_address': '10.1.0.9'}]}})['port']
    assert [f['ip_address'] for f in upd['fixed_ips']] == ['10.1.0.9']
    assert demo.port(net['id'])['fixed_ips'][0]['ip_address'] == '10.1.0.2'  # freed
    err = demo.error('PUT', '/ports/%s' % port['id'], {'port': {
        'port_security_enabled': False}}, status=409)
    assert err['type'] == 'PortSecurityPortHasSecurityGroup'
    upd = demo.put('/ports/%s' % port['id'], {'port': {
        'port_security_enabled': False, 'security_groups': []}})['port']
    assert upd['security_groups'] == [] and upd['port_security_enabled'] is False
    err = demo.error('PUT', '/ports/%s' % port['id'], {'port': {
        'allowed_address_pairs': [{'ip_address': '10.1.0.200'}]}}, status=409)
    assert err['type'] == 'AddressPairAndPortSecurityRequired'
    upd = demo.put('/ports/%s' % port['id'], {'port': {
        'port_security_enabled': True,
        'allowed_address_pairs': [{'ip_address': '10.1.0.200'}]}})['port']
    assert upd['allowed_address_pairs'] == [{'ip_address': '10.1.0.200',
                                             'mac_address': upd['mac_address']}]
    nosec = demo.port(net['id'], port_security_enabled=False)
    assert nosec['security_groups'] == []
    assert demo.error('POST', '/ports', {'port': {
        'network_id': net['id'], 'security_groups': [sg['id']],
        'port_security_enabled': False}}, status=409)


def test_port_filters(demo, other, admin):
    net, sub = _net(demo)
    a = demo.port(net['id'], name='a', device_id='vm-1', device_owner='compute:nova')
    demo.port(net['id'], name='b')
    other_net, _ = _net(other)
    other.port(other_net['id'], name='c')
    assert {p['name'] for p in demo.get('/ports')['ports']} == {'a', 'b'}
    got = demo.get('/ports?device_id=vm-1&fields=id&fields=name&fields=mac_address'
                   '&fields=fixed_ips&fields=status')['ports']
    assert [p['id'] for p in got] == [a['id']]
    assert set(got[0]) == {'id', 'name', 'mac_address', 'fixed_ips', 'status'}
    ip = a['fixed_ips'][0]['ip_address']
    assert [p['id'] for p in demo.get('/ports?fixed_ips=ip_address%%3D%s' % ip)['ports']] == \
        [a['id']]
    assert len(demo.get('/ports?fixed_ips=subnet_id%%3D%s' % sub['id'])['ports']) == 2
    assert [p['name'] for p in demo.get('/ports?mac_address=%s' % a['mac_address'])[
        'ports']] == ['a']
    assert [p['name'] for p in demo.get('/ports?device_owner=compute:nova')['ports']] == ['a']
    assert {p['name'] for p in admin.get('/ports')['ports']} >= {'a', 'b', 'c'}
    assert len(admin.get('/ports?project_id=%s' % demo.project_id)['ports']) == 2
    demo.get('/ports/%s' % other.get('/ports')['ports'][0]['id'], status=404)


def test_delete_server_port_is_allowed(demo):
    net, _ = _net(demo)
    p = demo.port(net['id'], device_id='vm', device_owner='compute:nova')
    demo.delete('/ports/%s' % p['id'])
    demo.get('/ports/%s' % p['id'], status=404)


def test_quotas(demo, admin):
    r = demo.get('/quotas/%s' % demo.project_id)['quota']
    assert r == {'network': 100, 'subnet': 100, 'port': 500, 'router': 10,
                 'floatingip': 50, 'security_group': 10, 'security_group_rule': 100,
                 'rbac_policy': 10, 'subnetpool': -1}
    demo.error('GET', '/quotas/%s' % admin.project_id, status=403)
    demo.error('PUT', '/quotas/%s' % demo.project_id, {'quota': {'network': 1}}, status=403)
    r = admin.put('/quotas/%s' % demo.project_id, {'quota': {'network': 1, 'port': 1}})
    assert r['quota']['network'] == 1
    admin.error('PUT', '/quotas/%s' % demo.project_id, {'quota': {'widgets': 1}})
    net = demo.network()
    err = demo.error('POST', '/networks', {'network': {'name': 'x'}}, status=409)
    assert err == {'type': 'OverQuota', 'detail': '',
                   'message': "Quota exceeded for resources: ['network']."}
    demo.subnet(net['id'])
    demo.port(net['id'])
    assert demo.error('POST', '/ports', {'port': {'network_id': net['id']}},
                      status=409)['type'] == 'OverQuota'
    details = demo.get('/quotas/%s/details' % demo.project_id)['quota']
    assert details['network'] == {'limit': 1, 'used': 1, 'reserved': 0}
    assert details['port'] == {'limit': 1, 'used': 1, 'reserved': 0}
    assert [q['project_id'] for q in admin.get('/quotas')['quotas']] == [demo.project_id]
    # the CLI sends check_limit: no limit below what is in use, unless forced
    err = admin.error('PUT', '/quotas/%s' % demo.project_id, {'quota': {
        'network': 0, 'check_limit': True}}, status=409)
    assert err['type'] == 'InvalidQuotaValue' and 'network' in err['message']
    admin.put('/quotas/%s' % demo.project_id, {'quota': {'network': 0, 'force': True}})
    admin.delete('/quotas/%s' % demo.project_id)
    assert demo.get('/quotas/%s' % demo.project_id)['quota']['network'] == 100
    assert demo.get('/quotas/%s/default' % demo.project_id)['quota']['port'] == 500


def test_extensions(demo):
    aliases = {e['alias'] for e in demo.get('/extensions')['extensions']}
    assert {'security-group', 'external-net', 'quotas', 'binding', 'port-security',
            'standard-attr-tag', 'fip-port-details', 'net-mtu', 'provider', 'router',
            'extraroute', 'ext-gw-mode'} <= aliases
    assert 'availability_zone' not in aliases
    assert demo.get('/extensions/binding')['extension']['alias'] == 'binding'
    demo.get('/extensions/Availability%20Zone', status=404)
    assert demo.get('/extensions/router')['extension']['name'] == 'Neutron L3 Router'


def test_lost_race_is_retried(demo, monkeypatch):
    """A MAC (or address) taken by a concurrent writer fails the insert;
    the create runs again and picks another."""
    from network import ipam
    net, _ = _net(demo)
    first = demo.port(net['id'])
    real = ipam.new_mac
    calls = []

    def racing(s, network_id):
        calls.append(1)
        return first['mac_address'] if len(calls) == 1 else real(s, network_id)

    monkeypatch.setattr(ipam, 'new_mac', racing)
    second = demo.port(net['id'])
    assert len(calls) == 2 and second['mac_address'] != first['mac_address']
    assert second['fixed_ips'][0]['ip_address'] == '10.1.0.3'
