"""The database functions the compute API and the scheduler call: ports
of servers, binding and DHCP ports, network_info, addresses, interfaces,
and the host state compute agents apply."""

import uuid

import pytest
import sqlalchemy as sa

from common import exception
from common.db import api as db_api
from network import ports
from network import state as netstate
from scheduler import claims
from tests.fixtures.network_api import _alloc
from tests.fixtures.network_api import ctx_of

pytestmark = pytest.mark.usefixtures('casts')


def _own_net(api, name='mine', cidr='10.1.0.0/24', router_to=None):
    """A network with one subnet; with ``router_to`` (an external network)
    also a router from it to that network."""
    net = api.network(name)
    sub = api.subnet(net['id'], cidr=cidr)
    if router_to:
        api.router(gateway=router_to['id'], subnets=[sub['id']])
    return net, sub


def _all_ports(admin):
    return admin.get('/ports')['ports']


def test_none_and_auto(demo, admin, public):
    _pub, priv = public
    assert _alloc(demo, 'none')[1] == []
    vm, got = _alloc(demo, 'auto', hostname='vm-one')
    (port,) = got
    assert port['network_id'] == priv['id']
    assert (port['device_id'], port['device_owner'], port['dns_name']) == \
        (vm, 'compute:nova', 'vm-one')
    assert port['fixed_ips'][0]['ip_address'].startswith('10.0.0.')
    default = demo.get('/security-groups?name=default')['security_groups'][0]
    assert port['security_groups'] == [default['id']]
    assert port['project_id'] == demo.project_id
    net, _sub = _own_net(demo)
    assert _alloc(demo, 'auto')[1][0]['network_id'] == net['id']  # its only network
    _own_net(demo, 'second', '10.2.0.0/24')
    assert _alloc(demo, 'auto')[1][0]['network_id'] == priv['id']


def test_auto_without_networks_is_empty(demo):
    assert _alloc(demo, 'auto')[1] == []


def test_explicit_networks_ports_and_fixed_ips(demo, admin, public):
    _pub, priv = public
    net, sub = _own_net(demo)
    user_port = demo.port(net['id'], name='given')
    vm, got = _alloc(demo, [{'uuid': net['id']}, {'uuid': priv['id'], 'fixed_ip': '10.0.0.50'},
                            {'port': user_port['id']}], hostname='h')
    assert [p['network_id'] for p in got] == [net['id'], priv['id'], net['id']]
    assert got[1]['fixed_ips'][0]['ip_address'] == '10.0.0.50'
    assert got[2]['id'] == user_port['id'] and got[2]['device_id'] == vm
    assert [p['id'] for p in ports.instance_ports(vm)] == [p['id'] for p in got]
    # errors, in Nova's words
    cases = [
        ([{'uuid': str(uuid.uuid4())}], exception.BadRequest, 'could not be found'),
        ([{'port': user_port['id']}], exception.Conflict,
         'Port %s is still in use.' % user_port['id']),
        ([{'port': str(uuid.uuid4())}], exception.BadRequest, 'Port id'),
        ([{'uuid': priv['id'], 'fixed_ip': '10.0.0.50'}], exception.Conflict,
         'Fixed IP address 10.0.0.50 is already in use on instance %s.' % vm),
        ([{'uuid': priv['id'], 'fixed_ip': '10.99.0.1'}], exception.BadRequest,
         'not a valid ip address'),
    ]
    for requested, error, text in cases:
        with pytest.raises(error, match=text):
            _alloc(demo, requested)
    noip = demo.port(net['id'], fixed_ips=[])
    with pytest.raises(exception.BadRequest, match='requires a FixedIP'):
        _alloc(demo, [{'port': noip['id']}])
    bare = demo.network('bare')
    with pytest.raises(exception.BadRequest, match='requires a subnet'):
        _alloc(demo, [{'uuid': bare['id']}])


def test_other_projects_networks_and_external(demo, other, public):
    pub, _priv = public
    theirs, _ = _own_net(other)
    with pytest.raises(exception.BadRequest) as e:
        _alloc(demo, [{'uuid': theirs['id']}])
    assert e.value.message == 'Network %s could not be found.' % theirs['id']
    with pytest.raises(exception.Forbidden):
        _alloc(demo, [{'uuid': pub['id']}])


def test_all_or_nothing(demo, admin, public):
    _pub, priv = public
    net, _ = _own_net(demo)
    before = len(_all_ports(admin))
    with pytest.raises(exception.BadRequest):
        _alloc(demo, [{'uuid': net['id']}, {'uuid': priv['id']}, {'uuid': str(uuid.uuid4())}])
    assert len(_all_ports(admin)) == before
    with pytest.raises(exception.BadRequest, match='Security group nope not found.'):
        _alloc(demo, [{'uuid': net['id']}], security_groups=['nope'])
    assert len(_all_ports(admin)) == before


def test_security_groups_by_name(demo):
    net, _ = _own_net(demo)
    web = demo.post('/security-groups', {'security_group': {'name': 'web'}})['security_group']
    vm, (port,) = _alloc(demo, [{'uuid': net['id']}], security_groups=['web', 'default'])
    default = demo.get('/security-groups?name=default')['security_groups'][0]
    assert sorted(port['security_groups']) == sorted([web['id'], default['id']])
    assert ports.security_group_names([vm, 'nothing']) == {vm: ['default', 'web'],
                                                           'nothing': []}


def test_deallocate(demo, admin, public):
    pub, _priv = public
    net, _ = _own_net(demo, router_to=pub)
    user_port = demo.port(net['id'])
    vm, got = _alloc(demo, [{'uuid': net['id']}, {'port': user_port['id']}])
    ports.bind_instance_ports(vm, 'h1')
    fip = demo.post('/floatingips', {'floatingip': {'floating_network_id': pub['id'],
                                                    'port_id': got[0]['id']}})['floatingip']
    assert ports.deallocate_for_instance(vm) == {'h1'}
    remaining = {p['id']: p for p in _all_ports(admin) if p['network_id'] == net['id']}
    assert got[0]['id'] not in remaining
    kept = remaining[user_port['id']]
    assert (kept['device_id'], kept['device_owner'], kept['binding:host_id']) == ('', '', '')
    assert not [p for p in remaining.values() if p['device_owner'] == 'network:dhcp']
    assert demo.get('/floatingips/%s' % fip['id'])['floatingip']['port_id'] is None
    assert ports.deallocate_for_instance(vm) == set()  # idempotent
    assert ports.instance_ports(vm) == []


def test_bind_dhcp_and_network_info(demo, admin, conf):
    conf.set_override('dns_nameservers', ['9.9.9.9'], 'network')
    try:
        net, sub = _own_net(demo)
        demo.put('/subnets/%s' % sub['id'], {'subnet': {'host_routes': [
            {'destination': '192.168.0.0/24', 'nexthop': '10.1.0.254'}]}})
        vm, (port,) = _alloc(demo, [{'uuid': net['id']}])
        info = ports.bind_instance_ports(vm, 'h1')
    finally:
        conf.clear_override('dns_nameservers', 'network')
    assert info == [{
        'id': port['id'], 'address': port['mac_address'], 'devname': 'tap' + port['id'][:11],
        'type': 'bridge',
        'network': {'id': net['id'], 'label': 'mine', 'bridge': 'brq' + net['id'][:11],
                    'mtu': 1450, 'subnets': [{
                        'id': sub['id'], 'cidr': '10.1.0.0/24', 'gateway': '10.1.0.1',
                        'ips': [port['fixed_ips'][0]['ip_address']],
                        'dns_nameservers': ['9.9.9.9'],
                        'routes': [{'destination': '192.168.0.0/24',
                                    'nexthop': '10.1.0.254'}],
                        'enable_dhcp': True}]}}]
    bound = admin.get('/ports/%s' % port['id'])['port']
    assert (bound['binding:host_id'], bound['status']) == ('h1', 'ACTIVE')
    dhcp = admin.get('/ports?device_owner=network:dhcp')['ports']
    assert len(dhcp) == 1
    assert (dhcp[0]['binding:host_id'], dhcp[0]['security_groups'],
            dhcp[0]['port_security_enabled'], dhcp[0]['network_id']) == \
        ('h1', [], False, net['id'])
    assert dhcp[0]['fixed_ips'][0]['subnet_id'] == sub['id']
    ports.bind_instance_ports(vm, 'h1')  # again: nothing new
    assert len(admin.get('/ports?device_owner=network:dhcp')['ports']) == 1
    ports.bind_instance_ports(vm, 'h2')  # rescheduled: h1's DHCP port goes
    dhcp = admin.get('/ports?device_owner=network:dhcp')['ports']
    assert [d['binding:host_id'] for d in dhcp] == ['h2']
    # a DHCP subnet added later gets an address on the DHCP port
    sub2 = demo.subnet(net['id'], cidr='10.2.0.0/24')
    dhcp = admin.get('/ports?device_owner=network:dhcp')['ports'][0]
    assert sorted(f['subnet_id'] for f in dhcp['fixed_ips']) == sorted([sub['id'], sub2['id']])
    demo.put('/subnets/%s' % sub2['id'], {'subnet': {'enable_dhcp': False}})
    dhcp = admin.get('/ports?device_owner=network:dhcp')['ports'][0]
    assert [f['subnet_id'] for f in dhcp['fixed_ips']] == [sub['id']]


def test_addresses(demo, public):
    _pub, priv = public
    net, _ = _own_net(demo)
    vm1, p1 = _alloc(demo, [{'uuid': net['id']}, {'uuid': priv['id']}])
    vm2, p2 = _alloc(demo, [{'uuid': net['id']}])
    got = ports.addresses([vm1, vm2, 'none'])
    assert got['none'] == {}
    assert list(got[vm1]) == ['mine', 'private']
    assert got[vm1]['mine'] == [{'version': 4, 'addr': p1[0]['fixed_ips'][0]['ip_address'],
                                 'OS-EXT-IPS:type': 'fixed',
                                 'OS-EXT-IPS-MAC:mac_addr': p1[0]['mac_address']}]
    assert got[vm2]['mine'][0]['addr'] == p2[0]['fixed_ips'][0]['ip_address']


def test_interfaces(demo, public):
    _pub, priv = public
    net, _ = _own_net(demo)
    web = demo.post('/security-groups', {'security_group': {'name': 'web'}})['security_group']
    vm, (first,) = _alloc(demo, [{'uuid': priv['id']}], security_groups=['web'])
    ports.bind_instance_ports(vm, 'h1')
    added = ports.create_port_for_interface(ctx_of(demo), vm, demo.project_id,
                                            net_id=net['id'], fixed_ip='10.1.0.33')
    assert added['fixed_ips'][0]['ip_address'] == '10.1.0.33'
    assert added['security_groups'] == [web['id']] and added['device_id'] == vm
    user = demo.port(net['id'])
    taken = ports.create_port_for_interface(ctx_of(demo), vm, demo.project_id,
                                            port_id=user['id'])
    assert [p['id'] for p in ports.instance_ports(vm)] == [first['id'], added['id'],
                                                           taken['id']]
    info = ports.bind_instance_ports(vm, 'h1')
    assert [v['id'] for v in info] == [first['id'], added['id'], taken['id']]
    # two networks usable: no network named is ambiguous
    with pytest.raises(exception.Conflict, match='Multiple possible networks'):
        ports.create_port_for_interface(ctx_of(demo), vm, demo.project_id)
    assert ports.release_interface(vm, added['id']) == {'h1'}
    assert ports.release_interface(vm, taken['id']) == {'h1'}
    assert demo.get('/ports/%s' % user['id'])['port']['device_id'] == ''
    demo.get('/ports/%s' % added['id'], status=404)
    with pytest.raises(exception.NotFound):
        ports.release_interface(vm, added['id'])


def test_host_state(demo, admin, other, public):
    pub, priv = public
    net, sub = _own_net(demo, router_to=pub)
    web = demo.post('/security-groups', {'security_group': {'name': 'web'}})['security_group']
    demo.post('/security-group-rules', {'security_group_rule': {
        'security_group_id': web['id'], 'direction': 'ingress', 'protocol': 'tcp',
        'port_range_min': 80, 'port_range_max': 80, 'remote_ip_prefix': '192.168.1.7/24'}})
    demo.post('/security-group-rules', {'security_group_rule': {
        'security_group_id': web['id'], 'direction': 'ingress', 'protocol': 'icmp',
        'remote_group_id': web['id']}})
    vm1, (p1,) = _alloc(demo, [{'uuid': net['id'], 'fixed_ip': '10.1.0.11'}],
                        hostname='one', security_groups=['web'])
    vm2, (p2,) = _alloc(demo, [{'uuid': net['id'], 'fixed_ip': '10.1.0.12'}],
                        hostname='two', security_groups=['web'])
    ports.bind_instance_ports(vm1, 'h1')
    ports.bind_instance_ports(vm2, 'h2')
    fip = demo.post('/floatingips', {'floatingip': {'floating_network_id': pub['id'],
                                                    'port_id': p1['id']}})['floatingip']
    state = netstate.host_state('h1')
    assert state['host'] == 'h1'
    assert [n['id'] for n in state['networks']] == [pub['id'], net['id']]
    ext, mine = state['networks']
    assert (ext['external'], ext['mtu'], ext['dhcp_port'], ext['segmentation_id'],
            ext['bridge']) == (True, 1500, None, None, 'brq' + pub['id'][:11])
    assert ext['subnets'][0]['gateway_ip'] == '172.24.4.1'
    assert mine['external'] is False and mine['name'] == 'mine' and mine['mtu'] == 1450
    assert isinstance(mine['segmentation_id'], int)
    assert mine['vxlan'] is None and ext['vxlan'] is None   # no node record: address unknown
    assert mine['subnets'] == [{'id': sub['id'], 'cidr': '10.1.0.0/24',
                                'gateway_ip': '10.1.0.1', 'enable_dhcp': True,
                                'dns_nameservers': [], 'host_routes': []}]
    dhcp = mine['dhcp_port']
    assert set(dhcp) == {'id', 'mac_address', 'fixed_ips'}
    assert dhcp['fixed_ips'][0]['subnet_id'] == sub['id']
    (port,) = state['ports']
    assert {k: port[k] for k in ('id', 'network_id', 'mac_address', 'devname', 'device_id',
                                 'hostname', 'fixed_ips', 'port_security_enabled',
                                 'floating_ips')} == {
        'id': p1['id'], 'network_id': net['id'], 'mac_address': p1['mac_address'],
        'devname': 'tap' + p1['id'][:11], 'device_id': vm1, 'hostname': 'one',
        'fixed_ips': [{'subnet_id': sub['id'], 'ip_address': '10.1.0.11'}],
        'port_security_enabled': True,
        'floating_ips': [{'id': fip['id'], 'floating_ip_address': fip['floating_ip_address'],
                          'fixed_ip_address': '10.1.0.11'}]}
    rules = port['rules']
    assert {'direction': 'egress', 'ethertype': 'IPv4', 'protocol': None,
            'port_range_min': None, 'port_range_max': None, 'remote_ip_prefix': None,
            'remote_ips': None} in rules
    assert {'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp',
            'port_range_min': 80, 'port_range_max': 80,
            'remote_ip_prefix': '192.168.1.0/24', 'remote_ips': None} in rules
    assert {'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'icmp',
            'port_range_min': None, 'port_range_max': None, 'remote_ip_prefix': None,
            'remote_ips': ['10.1.0.11', '10.1.0.12']} in rules
    assert len(rules) == 4  # web: 2 egress + 2 ingress
    assert set(netstate.host_state('h2')['ports'][0]) == set(port)
    empty = netstate.host_state('nowhere')
    assert empty == {'host': 'nowhere', 'ports': [], 'routers': [], 'networks': [
        dict(ext, dhcp_port=None)]}
    # who hears of a change
    assert netstate.hosts_for_ports([p1['id'], p2['id'], None]) == {'h1', 'h2'}
    assert netstate.hosts_for_security_group(web['id']) == {'h1', 'h2'}
    default = demo.get('/security-groups?name=default')['security_groups'][0]
    assert netstate.hosts_for_security_group(default['id']) == set()
    assert netstate.hosts_for_port_change([p1['id']]) == {'h1', 'h2'}
    assert netstate.hosts_for_instance(vm2) == {'h1', 'h2'}
    assert netstate.hosts_for_network(net['id']) == {'h1', 'h2'}
    assert netstate.hosts_for_network(pub['id']) == {'h1', 'h2'}
    assert netstate.hosts_for_network(priv['id']) == set()


def test_host_state_is_a_handful_of_queries(demo, public):
    net, _ = _own_net(demo)
    for n in range(6):
        vm, _p = _alloc(demo, [{'uuid': net['id']}, {'uuid': public[1]['id']}])
        ports.bind_instance_ports(vm, 'h1')
        # and a server on each of four other hosts: the VXLAN peers
        if n < 4:
            claims.update_node('p%d' % n, {'hypervisor_hostname': 'p%d' % n,
                                           'hypervisor_type': 'QEMU', 'vcpus': 1,
                                           'memory_mb': 512, 'local_gb': 1,
                                           'host_ip': '192.0.2.%d' % (n + 10)})
            vm, _p = _alloc(demo, [{'uuid': net['id']}, {'uuid': public[1]['id']}])
            ports.bind_instance_ports(vm, 'p%d' % n)
    claims.update_node('h1', {'hypervisor_hostname': 'h1', 'hypervisor_type': 'QEMU',
                              'vcpus': 1, 'memory_mb': 512, 'local_gb': 1,
                              'host_ip': '192.0.2.1'})
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db_api.get_engine('reader')
    sa.event.listen(engine, 'before_cursor_execute', count)
    try:
        state = netstate.host_state('h1')
    finally:
        sa.event.remove(engine, 'before_cursor_execute', count)
    assert len(state['ports']) == 12
    peers = ['192.0.2.%d' % n for n in range(10, 14)]
    assert [n['vxlan']['peers'] for n in state['networks'] if n['vxlan']] == [peers, peers]
    assert len(statements) <= 15   # 11, and 4 for the routers (private's router1)
    assert len(state['routers']) == 1
