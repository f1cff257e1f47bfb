"""Networks and subnets through the API: fields, visibility between
projects, admin-only attributes, subnet validation and IPAM pools."""

import uuid

import pytest

pytestmark = pytest.mark.usefixtures('casts')


def test_version_documents(client):
    r = client.get('/network/')
    assert r.status_code == 200 and r.get_json()['versions'][0]['id'] == 'v2.0'


def test_network_create_fields(demo, admin):
    net = demo.network('n1')
    for key, value in {'name': 'n1', 'status': 'ACTIVE', 'subnets': [], 'shared': False,
                       'admin_state_up': True, 'router:external': False, 'mtu': 1450,
                       'port_security_enabled': True, 'is_default': False, 'tags': [],
                       'availability_zones': [], 'availability_zone_hints': [],
                       'ipv4_address_scope': None, 'ipv6_address_scope': None,
                       'description': '', 'revision_number': 1, 'dns_domain': '',
                       'project_id': demo.project_id, 'tenant_id': demo.project_id}.items():
        assert net[key] == value, key
    assert net['created_at'].endswith('Z') and len(net['created_at']) == 20
    # provider attributes: admins only
    assert 'provider:network_type' not in net
    seen = admin.get('/networks/%s' % net['id'])['network']
    assert seen['provider:network_type'] == 'vxlan'
    assert 1 <= seen['provider:segmentation_id'] <= 2 ** 24 - 1
    assert seen['provider:physical_network'] is None
    updated = demo.put('/networks/%s' % net['id'], {'network': {'name': 'n2'}})['network']
    assert updated['name'] == 'n2' and updated['revision_number'] == 2


def test_dns_domain(demo):
    """dns-integration: a network's dns_domain is checked, kept and shown."""
    net = demo.post('/networks', {'network': {'name': 'd', 'dns_domain': 'my-domain.org.'}})[
        'network']
    assert net['dns_domain'] == 'my-domain.org.'
    got = demo.put('/networks/%s' % net['id'], {'network': {'dns_domain': 'other.example'}})
    assert got['network']['dns_domain'] == 'other.example'
    assert demo.get('/networks/%s' % net['id'])['network']['dns_domain'] == 'other.example'
    assert demo.put('/networks/%s' % net['id'], {'network': {'dns_domain': None}})[
        'network']['dns_domain'] == ''
    for bad in ('a..b', 'bad_label.org', 'x' * 64 + '.org', 'a.' * 130, 7):
        err = demo.put('/networks/%s' % net['id'], {'network': {'dns_domain': bad}},
                       status=400)['NeutronError']
        assert 'dns_domain' in err['message'], bad


def test_vni_unique_and_external_flat(admin):
    vnis = {admin.get('/networks/%s' % admin.network('n%d' % i)['id'])['network'][
        'provider:segmentation_id'] for i in range(5)}
    assert len(vnis) == 5
    ext = admin.network('ext', **{'router:external': True})
    assert (ext['mtu'], ext['provider:network_type'], ext['provider:segmentation_id']) == \
        (1500, 'flat', None)
    err = admin.error('POST', '/networks', {'network': {
        'name': 'x', 'provider:segmentation_id': min(vnis)}}, status=409)
    assert err['type'] == 'TunnelIdInUse'


def test_admin_only_attributes(demo):
    for attr in ('shared', 'router:external'):
        err = demo.error('POST', '/networks', {'network': {'name': 'x', attr: True}},
                         status=403)
        assert err['type'] == 'PolicyNotAuthorized' and attr in err['message']
    # the default value is fine (the CLI sends router:external False for --internal)
    demo.post('/networks', {'network': {'name': 'x', 'router:external': False,
                                        'shared': False}})


def test_visibility_between_projects(demo, other, admin, public):
    pub, priv = public
    mine = demo.network('mine')
    theirs = other.network('theirs')
    names = {n['name'] for n in demo.get('/networks')['networks']}
    assert names == {'mine', 'public', 'private'}
    err = demo.error('GET', '/networks/%s' % theirs['id'], status=404)
    assert err == {'type': 'NetworkNotFound', 'detail': '',
                   'message': 'Network %s could not be found.' % theirs['id']}
    assert demo.error('PUT', '/networks/%s' % theirs['id'], {'network': {'name': 'x'}},
                      status=404)['type'] == 'NetworkNotFound'
    assert demo.error('DELETE', '/networks/%s' % theirs['id'], status=404)
    # seen but not owned: changes are refused
    assert demo.error('PUT', '/networks/%s' % priv['id'], {'network': {'name': 'x'}},
                      status=403)['type'] == 'PolicyNotAuthorized'
    assert demo.error('POST', '/ports', {'port': {'network_id': theirs['id']}},
                      status=404)['type'] == 'NetworkNotFound'
    assert demo.error('POST', '/subnets', {'subnet': {
        'network_id': priv['id'], 'cidr': '10.9.0.0/24', 'ip_version': 4}}, status=403)
    assert {n['name'] for n in admin.get('/networks')['networks']} >= {'mine', 'theirs'}
    assert mine['id'] not in {n['id'] for n in other.get('/networks')['networks']}


def test_non_uuid_and_missing_ids_are_404(demo):
    for coll in ('networks', 'subnets', 'ports', 'security-groups', 'security-group-rules',
                 'floatingips'):
        demo.get('/%s/not-a-uuid' % coll, status=404)
        demo.get('/%s/%s' % (coll, uuid.uuid4()), status=404)
    demo.get('/floatingips/172.24.4.10', status=404)


def test_bad_bodies(demo):
    r = demo.client.post('/network/v2.0/networks', data='{nope',
                         headers={'X-Auth-Token': demo.token,
                                  'Content-Type': 'application/json'})
    assert r.status_code == 400 and 'NeutronError' in r.get_json()
    err = demo.error('POST', '/networks', {'network': {'name': 'x', 'colour': 'red'}})
    assert err['message'] == "Unrecognized attribute(s) 'colour'"
    err = demo.error('POST', '/networks', {'network': {'name': 'x', 'admin_state_up': 'meh'}})
    assert 'admin_state_up' in err['message']
    assert demo.error('POST', '/networks', {'net': {}})['type'] == 'HTTPBadRequest'
    err = demo.error('POST', '/networks', {'network': {'name': 'x', 'status': 'DOWN'}})
    assert 'status' in err['message']


def test_network_delete_rules(demo, admin):
    net = demo.network()
    sub = demo.subnet(net['id'])
    port = demo.port(net['id'], device_owner='compute:nova', device_id='vm')
    err = demo.error('DELETE', '/networks/%s' % net['id'], status=409)
    assert err == {'type': 'NetworkInUse', 'detail': '', 'message': (
        'Unable to complete operation on network %s. There are one or more ports still in '
        'use on the network.' % net['id'])}
    err = demo.error('DELETE', '/subnets/%s' % sub['id'], status=409)
    assert err['type'] == 'SubnetInUse'
    demo.delete('/ports/%s' % port['id'])
    # a DHCP port goes with the network
    admin.port(net['id'], device_owner='network:dhcp', project_id=demo.project_id)
    demo.delete('/networks/%s' % net['id'])
    demo.get('/subnets/%s' % sub['id'], status=404)
    assert admin.get('/ports?network_id=%s' % net['id'])['ports'] == []


def test_subnet_defaults(demo):
    net = demo.network()
    sub = demo.subnet(net['id'], cidr='10.1.0.5/24', name='s')
    assert sub['cidr'] == '10.1.0.0/24'  # host bits cleared, as Neutron does
    assert sub['gateway_ip'] == '10.1.0.1'
    assert sub['allocation_pools'] == [{'start': '10.1.0.2', 'end': '10.1.0.254'}]
    for key, value in {'enable_dhcp': True, 'ip_version': 4, 'dns_nameservers': [],
                       'host_routes': [], 'subnetpool_id': None, 'ipv6_ra_mode': None,
                       'ipv6_address_mode': None, 'tags': [], 'description': '',
                       'network_id': net['id'], 'tenant_id': demo.project_id,
                       'revision_number': 1}.items():
        assert sub[key] == value, key
    assert demo.get('/networks/%s' % net['id'])['network']['subnets'] == [sub['id']]
    mid = demo.subnet(net['id'], cidr='10.2.0.0/24', gateway_ip='10.2.0.100')
    assert mid['allocation_pools'] == [{'start': '10.2.0.1', 'end': '10.2.0.99'},
                                       {'start': '10.2.0.101', 'end': '10.2.0.254'}]
    none = demo.subnet(net['id'], cidr='10.3.0.0/29', gateway_ip=None)
    assert none['gateway_ip'] is None
    assert none['allocation_pools'] == [{'start': '10.3.0.1', 'end': '10.3.0.6'}]


def test_subnet_validation(demo):
    net = demo.network()
    demo.subnet(net['id'], cidr='10.1.0.0/24')
    err = demo.error('POST', '/subnets', {'subnet': {
        'network_id': net['id'], 'cidr': '10.1.0.128/25', 'ip_version': 4}})
    assert err['message'] == ('Invalid input for operation: Requested subnet with cidr: '
                              '10.1.0.128/25 for network: %s overlaps with another subnet.'
                              % net['id'])
    err = demo.error('POST', '/subnets', {'subnet': {
        'network_id': net['id'], 'cidr': 'fd00::/64', 'ip_version': 6}})
    assert 'IPv6' in err['message']
    for cidr in ('10.5.0.0/33', 'banana', '10.5.0.0'):
        demo.error('POST', '/subnets', {'subnet': {
            'network_id': net['id'], 'cidr': cidr, 'ip_version': 4}})
    base = {'network_id': net['id'], 'cidr': '10.6.0.0/24', 'ip_version': 4}
    cases = [
        ({'allocation_pools': [{'start': '10.6.0.10', 'end': '10.7.0.5'}]}, 400,
         'OutOfBoundsAllocationPool'),
        ({'allocation_pools': [{'start': '10.6.0.20', 'end': '10.6.0.10'}]}, 400,
         'InvalidAllocationPool'),
        ({'allocation_pools': [{'start': '10.6.0.2', 'end': '10.6.0.20'},
                               {'start': '10.6.0.15', 'end': '10.6.0.30'}]}, 409,
         'OverlappingAllocationPools'),
        ({'allocation_pools': [{'start': '10.6.0.1', 'end': '10.6.0.20'}]}, 409,
         'GatewayConflictWithAllocationPools'),
        ({'gateway_ip': '10.6.0.0'}, 400, 'InvalidInput'),
        ({'gateway_ip': '10.6.0.255'}, 400, 'InvalidInput'),
        ({'dns_nameservers': ['not-an-ip']}, 400, 'HTTPBadRequest'),
        ({'host_routes': [{'destination': '0.0.0.0/0'}]}, 400, 'HTTPBadRequest'),
    ]
    for extra, status, kind in cases:
        err = demo.error('POST', '/subnets', {'subnet': dict(base, **extra)}, status=status)
        assert err['type'] == kind, (extra, err)
    err = demo.error('POST', '/subnets', {'subnet': {'network_id': net['id'], 'cidr':
                                                     '10.8.0.0/31', 'ip_version': 4}})
    assert 'DHCP' in err['message']


def test_subnet_update_and_pools(demo):
    net = demo.network()
    sub = demo.subnet(net['id'], cidr='10.1.0.0/24',
                      allocation_pools=[{'start': '10.1.0.10', 'end': '10.1.0.12'}],
                      dns_nameservers=['8.8.8.8'])
    ips = [demo.port(net['id'])['fixed_ips'][0]['ip_address'] for _ in range(3)]
    assert ips == ['10.1.0.10', '10.1.0.11', '10.1.0.12']
    err = demo.error('POST', '/ports', {'port': {'network_id': net['id']}}, status=409)
    assert err == {'type': 'IpAddressGenerationFailure', 'detail': '',
                   'message': 'No more IP addresses available on network %s.' % net['id']}
    # an address outside the pools but inside the subnet may still be asked for
    port = demo.port(net['id'], fixed_ips=[{'ip_address': '10.1.0.50'}])
    assert port['fixed_ips'] == [{'subnet_id': sub['id'], 'ip_address': '10.1.0.50'}]
    upd = demo.put('/subnets/%s' % sub['id'], {'subnet': {
        'allocation_pools': [{'start': '10.1.0.10', 'end': '10.1.0.20'}],
        'dns_nameservers': [], 'host_routes': [{'destination': '192.168.0.0/16',
                                                'nexthop': '10.1.0.254'}],
        'name': 'renamed'}})['subnet']
    assert upd['allocation_pools'] == [{'start': '10.1.0.10', 'end': '10.1.0.20'}]
    assert upd['host_routes'] == [{'destination': '192.168.0.0/16', 'nexthop': '10.1.0.254'}]
    assert upd['name'] == 'renamed' and upd['revision_number'] == 2
    assert demo.port(net['id'])['fixed_ips'][0]['ip_address'] == '10.1.0.13'
    err = demo.error('PUT', '/subnets/%s' % sub['id'], {'subnet': {'cidr': '10.2.0.0/24'}})
    assert 'cidr' in err['message']
    err = demo.error('PUT', '/subnets/%s' % sub['id'], {'subnet': {'gateway_ip': '10.1.0.15'}},
                     status=409)
    assert err['type'] == 'GatewayConflictWithAllocationPools'


def test_list_queries(demo):
    for i in range(5):
        demo.network('n%d' % i, description='odd' if i % 2 else 'even')
    got = demo.get('/networks?name=n1&name=n3')['networks']
    assert sorted(n['name'] for n in got) == ['n1', 'n3']
    got = demo.get('/networks?description=even&fields=name&fields=id')['networks']
    assert sorted(n['name'] for n in got) == ['n0', 'n2', 'n4']
    assert set(got[0]) == {'name', 'id'}
    assert len(demo.get('/networks?shared=False&router:external=false&unknown=1')[
        'networks']) == 5
    desc = demo.get('/networks?sort_key=name&sort_dir=desc')['networks']
    assert [n['name'] for n in desc] == ['n4', 'n3', 'n2', 'n1', 'n0']
    page = demo.get('/networks?sort_key=name&limit=2')
    assert [n['name'] for n in page['networks']] == ['n0', 'n1']
    nxt = next(link for link in page['networks_links'] if link['rel'] == 'next')
    path = nxt['href'].split('/network/v2.0', 1)[1]
    page2 = demo.get(path)
    assert [n['name'] for n in page2['networks']] == ['n2', 'n3']
    last = demo.get('/networks?sort_key=name&limit=2&marker=%s' % page2['networks'][-1]['id'])
    assert [n['name'] for n in last['networks']] == ['n4']
    assert not [x for x in last.get('networks_links', []) if x['rel'] == 'next']
    assert demo.get('/networks/%s?fields=name' % page['networks'][0]['id']) == {
        'network': {'name': 'n0'}}


def test_tags(demo):
    net = demo.network(tags=['a'])
    assert net['tags'] == ['a']
    path = '/networks/%s/tags' % net['id']
    assert demo.put(path, {'tags': ['red', 'blue']}) == {'tags': ['red', 'blue']}
    demo.put(path + '/green', None, status=201)
    assert demo.get(path)['tags'] == ['red', 'blue', 'green']
    demo.get(path + '/red', status=204)
    demo.get(path + '/pink', status=404)
    demo.delete(path + '/red')
    demo.network('plain')
    assert [n['id'] for n in demo.get('/networks?tags=blue,green')['networks']] == [net['id']]
    assert [n['name'] for n in demo.get('/networks?not-tags-any=blue')['networks']] == \
        ['plain']
    demo.delete(path)
    assert demo.get('/networks/%s' % net['id'])['network']['tags'] == []


def test_bootstrap_networks(admin, demo, public, conf):
    pub, priv = public
    assert pub['router:external'] and not pub['shared'] and pub['mtu'] == 1500
    assert priv['shared'] and not priv['router:external']
    sub = admin.get('/subnets/%s' % pub['subnets'][0])['subnet']
    assert (sub['cidr'], sub['gateway_ip'], sub['enable_dhcp']) == \
        ('172.24.4.0/24', '172.24.4.1', False)
    assert sub['allocation_pools'] == [{'start': '172.24.4.10', 'end': '172.24.4.254'}]
    psub = demo.get('/subnets/%s' % priv['subnets'][0])['subnet']
    assert (psub['cidr'], psub['gateway_ip'], psub['enable_dhcp']) == \
        ('10.0.0.0/24', '10.0.0.1', True)
    from api.network import bootstrap
    bootstrap.bootstrap(admin.project_id)  # idempotent
    assert len(admin.get('/networks')['networks']) == 2
    assert len(admin.get('/subnets')['subnets']) == 2


def test_bulk_create_all_or_none(demo):
    """{"networks": [...]} makes each, in order; a refused one undoes the rest."""
    made = demo.post('/networks', {'networks': [{'name': 'b1'}, {'name': 'b2'}]})['networks']
    assert [n['name'] for n in made] == ['b1', 'b2']
    subs = demo.post('/subnets', {'subnets': [
        {'network_id': made[0]['id'], 'cidr': '10.31.0.0/24', 'ip_version': 4},
        {'network_id': made[1]['id'], 'cidr': '10.32.0.0/24', 'ip_version': 4}]})['subnets']
    assert [s['cidr'] for s in subs] == ['10.31.0.0/24', '10.32.0.0/24']
    before = len(demo.get('/networks')['networks'])
    err = demo.post('/networks', {'networks': [{'name': 'b3'}, {'name': 'b4', 'mtu': 'x'}]},
                    status=400)['NeutronError']
    assert 'mtu' in err['message']
    assert len(demo.get('/networks')['networks']) == before  # b3 went again
    assert 'b3' not in [n['name'] for n in demo.get('/networks')['networks']]
    for bad in ({'networks': []}, {'networks': 'x'}, {'networks': [1]}):
        demo.post('/networks', bad, status=400)
