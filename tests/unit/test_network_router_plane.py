"""The router namespaces of a host (compute/network/router.py through
HostNetwork): one per router, a leg per interface, east-west between its
own subnets, SNAT on the gateway host only, static routes, and a registry
of the previous per-network version cleaned up."""

import json

from common import netnames
from common.conf import CONF
from compute.network import names
from compute.network import router
from tests.fixtures.host_network import EXT
from tests.fixtures.host_network import ITF1
from tests.fixtures.host_network import ITF2
from tests.fixtures.host_network import MAC1
from tests.fixtures.host_network import MAC2
from tests.fixtures.host_network import NET1
from tests.fixtures.host_network import NET2
from tests.fixtures.host_network import PORT_A
from tests.fixtures.host_network import RTR1
from tests.fixtures.host_network import RTR2
from tests.fixtures.host_network import SUB1
from tests.fixtures.host_network import SUB2
from tests.fixtures.host_network import a_router
from tests.fixtures.host_network import chain
from tests.fixtures.host_network import interface
from tests.fixtures.host_network import make_state

NS1 = 'qrouter-' + RTR1


def one_router_state(snat=True, routes=()):
    """make_state with NET1 and NET2 both on RTR1 (SNAT on)."""
    state = make_state()
    state['routers'] = [a_router(
        RTR1, [interface(ITF1, NET1, SUB1, '10.1.0.1', '10.1.0.0/24', MAC1),
               interface(ITF2, NET2, SUB2, '10.2.0.1', '10.2.0.0/24', MAC2)],
        gw_ip='172.24.9.5', snat=snat, routes=routes,
        fips=[('172.24.9.10', '10.1.0.10', PORT_A)])]
    return state


def with_neighbours(state):
    """The guests of NET1 and NET2 (one of them on another host) as the
    records list them on RTR1's interfaces."""
    for itf in state['routers'][0]['interfaces']:
        itf['neighbours'] = {
            NET1: [{'ip_address': '10.1.0.10', 'mac_address': 'fa:16:3e:aa:00:01'}],
            NET2: [{'ip_address': '10.2.0.10', 'mac_address': 'fa:16:3e:cc:00:01'},
                   {'ip_address': '10.2.0.77', 'mac_address': 'FA:16:3E:77:00:01'},
                   {'ip_address': '10.9.9.9', 'mac_address': 'fa:16:3e:99:00:01'}]}[
            itf['network_id']]
    return state


def lines(sp):
    return [x.strip() for x in router.nft_ruleset(sp).splitlines()]


def test_names_fit_and_follow_ports_and_routers():
    assert netnames.router_namespace(RTR1) == 'qrouter-' + RTR1
    for name in (names.router_host_if(ITF1), names.router_ns_if(ITF1),
                 names.gateway_host_if(RTR1), names.gateway_ns_if(RTR1)):
        assert len(name) <= 15
    assert names.router_ns_if(ITF1) == 'qr-' + ITF1[:11]
    assert names.gateway_ns_if(RTR1) == 'qg-' + RTR1[:11]


def test_two_subnets_on_one_router_reach_each_other_and_leave_by_snat(hn, fake):
    want, _i, _z = hn.desired(one_router_state())
    assert [k for k in want if k.startswith('router:')] == ['router:' + RTR1]
    sp = want['router:' + RTR1]
    qr1, qr2 = names.router_ns_if(ITF1), names.router_ns_if(ITF2)
    qg = names.gateway_ns_if(RTR1)
    assert [(leg['ns_if'], leg['mac'], leg['addresses']) for leg in sp['legs']] == [
        (qr1, MAC1, ['10.1.0.1/24']), (qr2, MAC2, ['10.2.0.1/24'])]
    text = lines(sp)
    both = '{ "%s", "%s" }' % (qr1, qr2)
    east_west = 'iifname %s oifname %s accept' % (both, both)
    assert east_west in text
    assert text.index(east_west) < text.index('ct state invalid drop')
    # SNAT of both subnets out of the gateway address, after the floating IP's own
    snat = 'oifname "%s" ip saddr { 10.1.0.0/24, 10.2.0.0/24 } snat to 172.24.9.5' % qg
    fip = 'oifname "%s" ip saddr 10.1.0.10 snat to 172.24.9.10' % qg
    assert text.index(fip) < text.index(snat)
    assert 'iifname %s oifname "%s" ip saddr { 10.1.0.0/24, 10.2.0.0/24 } accept' % (
        both, qg) in text
    hn.apply(one_router_state())
    assert fake.netns == {'qdhcp-' + NET1, 'qdhcp-' + NET2, NS1}
    assert fake.links[(NS1, qg)]['addrs'] == ['172.24.9.10/32', '172.24.9.5/32']
    assert fake.links[(None, names.router_host_if(ITF2))]['master'] == netnames.bridge(NET2)
    assert fake.links[(NS1, qr2)]['mac'] == MAC2


def test_no_snat_without_the_gateway_or_when_turned_off(hn, fake):
    state = one_router_state(snat=False)
    sp = hn.desired(state)[0]['router:' + RTR1]
    assert sp['external']['snat'] is False
    assert not [x for x in lines(sp) if 'snat to 172.24.9.5' in x]
    CONF.set_override('external_gateway', False, 'network')
    try:
        hn.apply(one_router_state())
    finally:
        CONF.clear_override('external_gateway', 'network')
    sp = hn.resources['router:' + RTR1]
    assert sp['external']['address'] is None and sp['external']['snat'] is False
    text = lines(sp)
    assert not [x for x in text if '172.24.9.5' in x]
    assert 'ip daddr 172.24.9.10 dnat to 10.1.0.10' in text       # floating IPs still
    assert fake.links[(NS1, names.gateway_ns_if(RTR1))]['addrs'] == ['172.24.9.10/32']


def test_two_routers_never_meet(hn):
    want = hn.desired(make_state())[0]
    one, two = want['router:' + RTR1], want['router:' + RTR2]
    assert one['netns'] != two['netns']
    assert [leg['port_id'] for leg in one['legs']] == [ITF1]
    assert [leg['port_id'] for leg in two['legs']] == [ITF2]
    assert names.router_ns_if(ITF2) not in router.nft_ruleset(one)
    # the firewall keeps both routers' legs on this host
    vx = make_state()
    for n in vx['networks']:
        if not n['external']:
            n['vxlan'] = {'vni': 5, 'local_ip': '192.0.2.1', 'peers': ['192.0.2.2']}
    vx['routers'].append(a_router('r3r3r3r3-0000-4000-8000-000000000003', [
        interface('i3i3i3i3-0000-4000-8000-000000000003', NET1, SUB1, '10.1.0.5',
                  '10.1.0.0/24', 'fa:16:3e:f3:00:01')]))
    text = hn.desired(vx)[0]['firewall']['ruleset']
    assert 'ether saddr { %s, fa:16:3e:f3:00:01 } drop' % MAC1 in text
    assert 'arp daddr ip { 10.1.0.1, 10.1.0.5 } drop' in text


def test_no_router_no_namespace(hn):
    state = make_state()
    state['routers'] = [state['routers'][0]]
    want = hn.desired(state)[0]
    assert 'router:' + RTR2 not in want
    # a router whose interfaces are on networks this host does not carry
    state['routers'][0]['interfaces'][0]['network_id'] = 'elsewhere'
    assert not [k for k in hn.desired(state)[0] if k.startswith('router:')]


def test_static_routes_follow_the_router(hn, fake):
    route = {'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}
    hn.apply(one_router_state(routes=[route]))
    assert fake.ran('ip -n %s route replace 10.9.0.0/16 via 10.2.0.254 proto static' % NS1)
    fake.reset()
    summary = hn.apply(one_router_state())
    assert summary['updated'] == ['router:' + RTR1]
    assert fake.ran('ip -n %s route del 10.9.0.0/16 via 10.2.0.254 proto static' % NS1)


def test_an_interface_removed_takes_its_leg(hn, fake):
    hn.apply(one_router_state())
    state = one_router_state()
    del state['routers'][0]['interfaces'][1]
    summary = hn.apply(state)
    assert 'router:' + RTR1 in summary['updated']
    assert not fake.link_exists(names.router_host_if(ITF2))
    assert fake.link_exists(names.router_host_if(ITF1))


def test_the_previous_per_network_registry_is_cleaned_up(hn, fake):
    """An agent of the previous version kept router:<network id> with a
    {'tenant', 'external'} spec: the new one removes it (and teardown
    would too)."""
    old = {'network_id': NET1, 'netns': 'qrouter-' + NET1,
           'tenant': {'host_if': 'rt-' + NET1[:11], 'ns_if': 'qr-' + NET1[:11],
                      'bridge': netnames.bridge(NET1), 'mtu': 1450,
                      'mac': 'fa:16:3f:00:00:01', 'addresses': ['10.1.0.1/24'],
                      'cidrs': ['10.1.0.0/24']},
           'external': {'host_if': 'rg-' + NET1[:11], 'ns_if': 'qg-' + NET1[:11],
                        'bridge': netnames.bridge(EXT), 'mtu': 1500,
                        'cidr': '172.24.9.0/24', 'gateway': '172.24.9.1',
                        'fips': [{'fip': '172.24.9.10', 'fixed': '10.1.0.10'}]}}
    hn.apply(make_state())
    fake.netns.add(old['netns'])
    for leg in (old['tenant'], old['external']):
        fake.links[(None, leg['host_if'])] = {'kind': 'veth', 'master': leg['bridge'],
                                              'addrs': [], 'mac': 'x', 'mtu': 1500}
    reg = json.load(open(hn.registry_path))
    reg['resources']['router:' + NET1] = old
    json.dump(reg, open(hn.registry_path, 'w'))
    hn._registry = None                                # a restarted agent
    summary = hn.apply(make_state())
    assert summary['removed'] == ['router:' + NET1]
    assert 'qrouter-' + NET1 not in fake.netns
    assert not fake.link_exists('rt-' + NET1[:11]) and not fake.link_exists('rg-' + NET1[:11])
    assert fake.ran('neigh flush dev %s to 172.24.9.10' % netnames.bridge(EXT))
    assert sorted(k for k in hn.resources if k.startswith('router:')) == sorted(
        ['router:' + RTR1, 'router:' + RTR2])
    # and teardown of an old registry knows the old shape
    assert [leg['host_if'] for leg in router.host_links(old)] == [
        'rt-' + NET1[:11], 'rg-' + NET1[:11]]


def test_legs_know_the_guests_of_their_network_on_every_host(hn, fake):
    hn.apply(with_neighbours(one_router_state()))
    qr2 = names.router_ns_if(ITF2)
    sp = hn.resources['router:' + RTR1]
    assert sp['legs'][1]['neighbours'] == [['10.2.0.10', 'fa:16:3e:cc:00:01'],
                                           ['10.2.0.77', 'fa:16:3e:77:00:01']]
    assert fake.ran('ip -n %s neigh replace 10.2.0.77 lladdr fa:16:3e:77:00:01 dev %s nud '
                    'permanent' % (NS1, qr2))
    assert not fake.ran('10.9.9.9')                      # not on the leg's subnet
    fake.reset()
    state = with_neighbours(one_router_state())
    del state['routers'][0]['interfaces'][1]['neighbours'][1]   # the remote guest went
    assert hn.apply(state)['updated'] == ['router:' + RTR1]
    assert fake.ran('ip -n %s neigh del 10.2.0.77 dev %s' % (NS1, qr2))


def test_routed_frames_leave_through_vxlan_with_the_hosts_mac(hn):
    state = one_router_state()
    for n in state['networks']:
        if not n['external']:
            n['vxlan'] = {'vni': 5, 'local_ip': '192.0.2.1', 'peers': ['192.0.2.2']}
    text = hn.desired(state)[0]['firewall']['ruleset']
    mine = names.host_router_mac('node-1')
    assert mine != names.host_router_mac('node-2') and mine.startswith('fa:16:3f:')
    vx1, vx2 = names.vxlan_if(NET1), names.vxlan_if(NET2)
    out = chain(text, 'vxlan_out')
    assert out[1] == ('oifname { "%s", "%s" } ether saddr { %s, %s } ether type ip '
                      'ether saddr set %s' % (vx1, vx2, MAC1, MAC2, mine))
    assert out[2].startswith('oifname vmap')      # then the drops (ARP from the legs)
    assert 'ether saddr { %s } drop' % MAC1 in text
