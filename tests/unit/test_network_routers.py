"""Routers through the API: records, external gateway, interfaces, static
routes, quotas, and the floating IP rule that needs a router."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


@pytest.fixture
def lan(demo):
    """demo's own network and subnet 10.10.0.0/24 (gateway 10.10.0.1)."""
    net = demo.network('lan')
    return net, demo.subnet(net['id'], cidr='10.10.0.0/24')


def _add(api, router, status=200, **body):
    r = api.put('/routers/%s/add_router_interface' % router['id'], body, status=status)
    return r if status == 200 else r['NeutronError']


def _remove(api, router, status=200, **body):
    r = api.put('/routers/%s/remove_router_interface' % router['id'], body, status=status)
    return r if status == 200 else r['NeutronError']


def test_create_show_list_update_delete(demo, other, admin):
    router = demo.router('r1', description='mine')
    for key, value in {'name': 'r1', 'description': 'mine', 'admin_state_up': True,
                       'status': 'ACTIVE', 'external_gateway_info': None, 'routes': [],
                       'tags': [], 'project_id': demo.project_id,
                       'tenant_id': demo.project_id, 'revision_number': 1}.items():
        assert router[key] == value, key
    second = demo.router('r2')
    assert demo.get('/routers/%s' % router['id'])['router'] == router
    assert [r['name'] for r in demo.get('/routers')['routers']] == ['r1', 'r2']
    assert [r['id'] for r in demo.get('/routers?name=r2')['routers']] == [second['id']]
    assert demo.get('/routers?fields=id&fields=name')['routers'][0] == {
        'id': router['id'], 'name': 'r1'}
    page = demo.get('/routers?limit=1')
    assert [r['id'] for r in page['routers']] == [router['id']]
    assert page['routers_links'][0]['rel'] == 'next'
    # other projects see nothing of it; admins see all
    assert other.get('/routers')['routers'] == []
    assert other.error('GET', '/routers/%s' % router['id'], status=404) == {
        'type': 'RouterNotFound', 'detail': '',
        'message': 'Router %s could not be found' % router['id']}
    other.error('PUT', '/routers/%s' % router['id'], {'router': {'name': 'x'}}, status=404)
    other.error('DELETE', '/routers/%s' % router['id'], status=404)
    assert {r['id'] for r in admin.get('/routers')['routers']} == {router['id'], second['id']}
    upd = demo.put('/routers/%s' % router['id'], {'router': {
        'name': 'renamed', 'admin_state_up': False, 'description': 'd'}})['router']
    assert (upd['name'], upd['admin_state_up'], upd['description'],
            upd['revision_number']) == ('renamed', False, 'd', 2)
    assert 'Unrecognized attribute' in demo.error('POST', '/routers', {'router': {
        'name': 'x', 'distributed': True}})['message']
    demo.delete('/routers/%s' % router['id'])
    demo.get('/routers/%s' % router['id'], status=404)


def test_external_gateway(demo, admin, public, lan):
    pub, priv = public
    router = demo.router('r', gateway=pub['id'])
    info = router['external_gateway_info']
    assert (info['network_id'], info['enable_snat']) == (pub['id'], True)
    (fixed,) = info['external_fixed_ips']
    assert fixed['subnet_id'] == pub['subnets'][0]
    gw = admin.get('/ports?device_id=%s' % router['id'])['ports']
    assert [(p['device_owner'], p['network_id'], p['fixed_ips']) for p in gw] == [
        ('network:router_gateway', pub['id'], [fixed])]
    # not an external network
    err = demo.error('PUT', '/routers/%s' % router['id'], {'router': {
        'external_gateway_info': {'network_id': lan[0]['id']}}})
    assert err['message'] == 'Bad router request: Network %s is not an external network.' \
        % lan[0]['id']
    # SNAT off and a chosen address are an admin's
    err = demo.error('PUT', '/routers/%s' % router['id'], {'router': {
        'external_gateway_info': {'network_id': pub['id'], 'enable_snat': False}}},
        status=403)
    assert 'update_router:external_gateway_info:enable_snat' in err['message']
    demo.error('POST', '/routers', {'router': {'name': 'x', 'external_gateway_info': {
        'network_id': pub['id'], 'external_fixed_ips': [{'ip_address': '172.24.4.99'}]}}},
        status=403)
    mine = demo.post('/routers', {'router': {'name': 'y', 'external_gateway_info': {
        'network_id': pub['id'], 'external_fixed_ips': [{'subnet_id': pub['subnets'][0]}]}}}
    )['router']
    assert mine['external_gateway_info']['external_fixed_ips'][0]['subnet_id'] == \
        pub['subnets'][0]
    upd = admin.put('/routers/%s' % router['id'], {'router': {'external_gateway_info': {
        'network_id': pub['id'], 'enable_snat': False,
        'external_fixed_ips': [{'ip_address': '172.24.4.99'}]}}})['router']
    assert upd['external_gateway_info']['enable_snat'] is False
    assert upd['external_gateway_info']['external_fixed_ips'][0]['ip_address'] == \
        '172.24.4.99'
    # the gateway's port is the router's: not deleted through the port API
    gw = admin.get('/ports?device_id=%s' % router['id'])['ports'][0]
    err = admin.error('DELETE', '/ports/%s' % gw['id'], status=409)
    assert err == {'type': 'ServicePortInUse', 'detail': '', 'message':
                   'Port %s cannot be deleted directly via the port API: has device owner '
                   'network:router_gateway.' % gw['id']}
    # nor its network
    assert admin.error('DELETE', '/networks/%s' % pub['id'], status=409)['type'] == \
        'NetworkInUse'
    # clearing it removes the port
    cleared = demo.put('/routers/%s' % router['id'], {'router': {
        'external_gateway_info': {}}})['router']
    assert cleared['external_gateway_info'] is None
    assert admin.get('/ports?device_id=%s' % router['id'])['ports'] == []


def test_interfaces_by_subnet(demo, admin, other, lan):
    net, sub = lan
    router = demo.router('r')
    info = _add(demo, router, subnet_id=sub['id'])
    (port,) = demo.get('/ports?device_id=%s' % router['id'])['ports']
    assert info == {'id': router['id'], 'tenant_id': demo.project_id,
                    'project_id': demo.project_id, 'port_id': port['id'],
                    'subnet_id': sub['id'], 'subnet_ids': [sub['id']], 'network_id': net['id']}
    assert (port['device_owner'], port['fixed_ips']) == (
        'network:router_interface', [{'subnet_id': sub['id'], 'ip_address': '10.10.0.1'}])
    assert _add(demo, router, status=400, subnet_id=sub['id'])['message'] == \
        'Bad router request: Router already has a port on subnet %s.' % sub['id']
    second = demo.router('r2')
    assert _add(demo, second, status=409, subnet_id=sub['id'])['type'] == \
        'IpAddressAlreadyAllocated'
    nogw = demo.subnet(net['id'], cidr='10.11.0.0/24', gateway_ip=None)
    assert _add(demo, router, status=400, subnet_id=nogw['id'])['message'] == \
        'Bad router request: Subnet for router interface must have a gateway IP.'
    assert _add(demo, router, status=400)['message'] == \
        'Bad router request: Either subnet_id or port_id must be specified.'
    assert _add(demo, router, status=400, subnet_id=sub['id'], port_id=port['id'])[
        'message'] == 'Bad router request: Cannot specify both subnet-id and port-id.'
    _add(demo, router, status=404, subnet_id='6b4d8a9e-0000-4000-8000-000000000000')
    # another project may not use it, nor see the router
    theirs = other.network()
    theirs_sub = other.subnet(theirs['id'], cidr='10.10.0.0/24')
    _add(other, router, status=404, subnet_id=theirs_sub['id'])
    _add(demo, router, status=404, subnet_id=theirs_sub['id'])
    # in use: not deleted, nor its port, subnet or network
    assert demo.error('DELETE', '/routers/%s' % router['id'], status=409) == {
        'type': 'RouterInUse', 'detail': '',
        'message': 'Router %s still has ports' % router['id']}
    err = demo.error('DELETE', '/ports/%s' % port['id'], status=409)
    assert err['message'] == ('Port %s cannot be deleted directly via the port API: has '
                              'device owner network:router_interface.' % port['id'])
    assert demo.error('DELETE', '/subnets/%s' % sub['id'], status=409)['type'] == 'SubnetInUse'
    assert demo.error('DELETE', '/networks/%s' % net['id'], status=409)['type'] == \
        'NetworkInUse'
    # removal
    assert _remove(demo, second, status=404, subnet_id=sub['id']) == {
        'type': 'RouterInterfaceNotFoundForSubnet', 'detail': '',
        'message': 'Router %s has no interface on subnet %s' % (second['id'], sub['id'])}
    assert _remove(demo, router, subnet_id=sub['id']) == info
    assert demo.get('/ports?device_id=%s' % router['id'])['ports'] == []
    demo.delete('/routers/%s' % router['id'])
    demo.delete('/networks/%s' % net['id'])


def test_interfaces_by_port(demo, lan):
    net, sub = lan
    router = demo.router('r')
    port = demo.port(net['id'], fixed_ips=[{'subnet_id': sub['id'],
                                            'ip_address': '10.10.0.254'}])
    info = _add(demo, router, port_id=port['id'])
    assert (info['port_id'], info['subnet_ids'], info['network_id']) == (
        port['id'], [sub['id']], net['id'])
    shown = demo.get('/ports/%s' % port['id'])['port']
    assert (shown['device_owner'], shown['device_id']) == ('network:router_interface',
                                                          router['id'])
    busy = demo.port(net['id'], device_id='vm-1', device_owner='compute:nova')
    err = _add(demo, router, status=409, port_id=busy['id'])
    assert err['message'] == ('Unable to complete operation on port %s for network %s. Port '
                              'already has an attached device vm-1.' % (busy['id'], net['id']))
    noip = demo.port(net['id'], fixed_ips=[])
    assert _add(demo, router, status=400, port_id=noip['id'])['message'] == \
        'Bad router request: Router port must have at least one fixed IP.'
    assert _remove(demo, router, status=404, port_id=busy['id']) == {
        'type': 'RouterInterfaceNotFound', 'detail': '',
        'message': 'Router %s does not have an interface with id %s' % (router['id'],
                                                                        busy['id'])}
    assert _remove(demo, router, port_id=port['id'])['port_id'] == port['id']
    demo.get('/ports/%s' % port['id'], status=404)


def test_routes(demo, public, lan):
    pub, _priv = public
    net, sub = lan
    router = demo.router('r', gateway=pub['id'], subnets=[sub['id']])
    url = '/routers/%s' % router['id']
    err = demo.error('PUT', url, {'router': {'routes': [
        {'destination': '192.168.0.0/24', 'nexthop': '10.99.0.5'}]}})
    assert err['type'] == 'InvalidRoutes'
    assert err['message'].endswith('the nexthop is not connected with router')
    err = demo.error('PUT', url, {'router': {'routes': [
        {'destination': '192.168.0.0/24', 'nexthop': '10.10.0.1'}]}})
    assert err['message'].endswith('the nexthop is used by router')
    assert demo.error('PUT', url, {'router': {'routes': [{'destination': 'x',
                                                          'nexthop': '10.10.0.5'}]}})[
        'type'] == 'InvalidRoutes'
    route = {'destination': '192.168.0.0/24', 'nexthop': '10.10.0.5'}
    assert demo.put(url, {'router': {'routes': [route]}})['router']['routes'] == [route]
    other_route = {'destination': '192.168.1.0/24', 'nexthop': '172.24.4.1'}  # on the gateway
    got = demo.put(url + '/add_extraroutes', {'router': {'routes': [other_route, route]}})
    assert got['router']['routes'] == [route, other_route]
    err = _remove(demo, router, status=409, subnet_id=sub['id'])
    assert err['message'] == ('Router interface for subnet %s on router %s cannot be deleted, '
                              'as it is required by one or more routes.'
                              % (sub['id'], router['id']))
    got = demo.put(url + '/remove_extraroutes', {'router': {'routes': [route]}})
    assert got['router']['routes'] == [other_route]
    demo.put(url, {'router': {'routes': []}})
    _remove(demo, router, subnet_id=sub['id'])
    assert demo.get(url)['router']['routes'] == []
    demo.error('POST', '/routers', {'router': {'name': 'x', 'routes': []}})  # PUT only


def test_quota(demo, admin):
    assert demo.get('/quotas/%s' % demo.project_id)['quota']['router'] == 10
    admin.put('/quotas/%s' % demo.project_id, {'quota': {'router': 1}})
    demo.router('one')
    err = demo.error('POST', '/routers', {'router': {'name': 'two'}}, status=409)
    assert err == {'type': 'OverQuota', 'detail': '',
                   'message': "Quota exceeded for resources: ['router']."}
    details = demo.get('/quotas/%s/details' % demo.project_id)['quota']['router']
    assert (details['limit'], details['used']) == (1, 1)


def test_floating_ip_needs_a_router(demo, admin, public, lan):
    pub, _priv = public
    net, sub = lan
    vm = demo.port(net['id'], device_id='vm-1', device_owner='compute:nova')
    fip = demo.post('/floatingips', {'floatingip': {
        'floating_network_id': pub['id']}})['floatingip']
    url = '/floatingips/%s' % fip['id']
    err = demo.error('PUT', url, {'floatingip': {'port_id': vm['id']}}, status=404)
    assert err == {'type': 'ExternalGatewayForFloatingIPNotFound', 'detail': '', 'message':
                   'External network %s is not reachable from subnet %s.  Therefore, cannot '
                   'associate Port %s with a Floating IP.' % (pub['id'], sub['id'], vm['id'])}
    # an interface without a gateway is no way out, nor a gateway without an interface
    router = demo.router('r', subnets=[sub['id']])
    demo.error('PUT', url, {'floatingip': {'port_id': vm['id']}}, status=404)
    demo.put('/routers/%s' % router['id'], {'router': {
        'external_gateway_info': {'network_id': pub['id']}}})
    upd = demo.put(url, {'floatingip': {'port_id': vm['id']}})['floatingip']
    assert (upd['router_id'], upd['status']) == (router['id'], 'ACTIVE')
    assert demo.get(url)['floatingip']['router_id'] == router['id']
    # the floating IP holds the router's interface and gateway
    err = _remove(demo, router, status=409, subnet_id=sub['id'])
    assert err['type'] == 'RouterInterfaceInUseByFloatingIP'
    assert err['message'] == ('Router interface for subnet %s on router %s cannot be deleted, '
                              'as it is required by one or more floating IPs.'
                              % (sub['id'], router['id']))
    err = demo.error('PUT', '/routers/%s' % router['id'], {'router': {
        'external_gateway_info': None}}, status=409)
    assert err['message'] == ('Gateway cannot be updated for router %s, since a gateway to '
                              'external network %s is required by one or more floating IPs.'
                              % (router['id'], pub['id']))
    demo.put(url, {'floatingip': {'port_id': None}})
    assert demo.get(url)['floatingip']['router_id'] is None
    _remove(demo, router, subnet_id=sub['id'])


def test_bootstrap_router(admin, demo, public):
    pub, priv = public
    (router,) = admin.get('/routers?name=router1')['routers']
    assert router['external_gateway_info']['network_id'] == pub['id']
    assert router['external_gateway_info']['external_fixed_ips'][0]['ip_address'] == \
        '172.24.4.10'
    itf = admin.get('/ports?device_id=%s&device_owner=network:router_interface'
                    % router['id'])['ports']
    assert [p['fixed_ips'][0]['ip_address'] for p in itf] == ['10.0.0.1']
    from api.network import bootstrap
    bootstrap.bootstrap(admin.project_id)  # again: nothing new
    assert len(admin.get('/routers')['routers']) == 1
    # a demo server on the shared private network takes a floating IP through it
    vm = demo.port(priv['id'], device_id='vm-1', device_owner='compute:nova')
    fip = demo.post('/floatingips', {'floatingip': {'floating_network_id': pub['id'],
                                                    'port_id': vm['id']}})['floatingip']
    assert fip['router_id'] == router['id']
