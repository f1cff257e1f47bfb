"""Centralized SNAT on the hosts (compute/network/router.py through
HostNetwork): the host a router's SNAT ports are bound to (it holds the
external gateway) gives each a leg sg-<port> on the subnet's bridge and
SNATs what arrives there; a host that does not hold the gateway sends its
subnets' traffic that leaves the router, except from fixed addresses with a
floating IP here, to the SNAT port's address (ip rules and a table per
subnet); the firewall lets ARP about the SNAT ports cross VXLAN."""

import json

import pytest

from common.conf import CONF
from compute.network import names
from compute.network import plane
from compute.network import router
from tests.fixtures.host_network import ITF1
from tests.fixtures.host_network import ITF2
from tests.fixtures.host_network import MAC1
from tests.fixtures.host_network import MAC2
from tests.fixtures.host_network import NET1
from tests.fixtures.host_network import NET2
from tests.fixtures.host_network import PORT_A
from tests.fixtures.host_network import RTR1
from tests.fixtures.host_network import SUB1
from tests.fixtures.host_network import SUB2
from tests.fixtures.host_network import FakeRunner
from tests.fixtures.host_network import a_router
from tests.fixtures.host_network import interface
from tests.fixtures.host_network import make_state

NS1 = 'qrouter-' + RTR1
SNAT1 = 'c1c1c1c1-0000-4000-8000-000000000001'     # RTR1's SNAT port on SUB1
SNAT2 = 'c2c2c2c2-0000-4000-8000-000000000002'     # and on SUB2
SMAC1, SMAC2 = 'fa:16:3e:c1:00:01', 'fa:16:3e:c2:00:01'
TABLE1 = str(int.from_bytes(bytes([10, 1, 0, 0]), 'big'))
TABLE2 = str(int.from_bytes(bytes([10, 2, 0, 0]), 'big'))


class RuleRunner(FakeRunner):
    """FakeRunner that also keeps ``ip rule``s and the routes of numbered
    tables per namespace."""

    def __init__(self):
        super().__init__()
        self.rules = {}      # netns -> set of (priority, from, to, table)
        self.route_tables = {}   # (netns, table) -> [route words]

    def _ip(self, args):
        rest, ns = list(args), None
        if rest[:2] == ['-j', '-n'] or rest[:1] == ['-n']:
            ns = rest[rest.index('-n') + 1]
        words = [a for a in rest if a not in ('-j', '-n', ns)]
        if words[:1] == ['rule'] and ns in self.netns:
            rules = self.rules.setdefault(ns, set())
            if words[1] == 'show':
                out = []
                for prio, src, dst, table in sorted(rules):
                    r = {'priority': prio, 'src': 'all', 'table': table}
                    if src != 'all':
                        r['src'], r['srclen'] = src.split('/')[0], int(src.split('/')[1])
                        if r['srclen'] == 32:
                            del r['srclen']
                    if dst != 'all':
                        r['dst'], r['dstlen'] = dst.split('/')[0], int(dst.split('/')[1])
                    out.append(r)
                return 0, json.dumps(out), ''
            key = (int(words[words.index('priority') + 1]), words[words.index('from') + 1],
                   words[words.index('to') + 1], words[words.index('lookup') + 1])
            if words[1] == 'add':
                rules.add(key)
            elif key in rules:
                rules.discard(key)
            else:
                return 2, '', 'RTNETLINK answers: No such file or directory'
            return 0, '', ''
        if words[:1] == ['route'] and 'table' in words and ns in self.netns:
            table = words[words.index('table') + 1]
            if words[1] == 'flush':
                self.route_tables.pop((ns, table), None)
            else:
                self.route_tables[(ns, table)] = words[2:words.index('table')]
            return 0, '', ''
        if words[:2] == ['netns', 'del']:
            self.rules.pop(words[2], None)
        return super()._ip(args)


@pytest.fixture
def fake():
    return RuleRunner()


@pytest.fixture
def hn(tmp_path, fake):
    yield plane.HostNetwork(str(tmp_path / 'net'), 'node-1', runner=fake)


def snat_port(pid, nid, sub, ip, cidr, mac, host):
    return {'port_id': pid, 'network_id': nid, 'mac_address': mac, 'host': host,
            'fixed_ips': [{'subnet_id': sub, 'ip_address': ip, 'cidr': cidr}]}


def snat_state(host, routes=()):
    """RTR1 on NET1 and NET2 with SNAT on, its SNAT ports bound to ``host``;
    A (10.1.0.10) has a floating IP here, B and C have none."""
    state = make_state()
    state['routers'] = [a_router(
        RTR1, [interface(ITF1, NET1, SUB1, '10.1.0.1', '10.1.0.0/24', MAC1),
               interface(ITF2, NET2, SUB2, '10.2.0.1', '10.2.0.0/24', MAC2)],
        gw_ip='172.24.9.5', snat=True, routes=routes,
        fips=[('172.24.9.10', '10.1.0.10', PORT_A)])]
    state['routers'][0]['snat_ports'] = [
        snat_port(SNAT1, NET1, SUB1, '10.1.0.3', '10.1.0.0/24', SMAC1, host),
        snat_port(SNAT2, NET2, SUB2, '10.2.0.3', '10.2.0.0/24', SMAC2, host)]
    return state


@pytest.fixture
def elsewhere():
    """This host does not hold the external gateway (hosts 2..N)."""
    CONF.set_override('external_gateway', False, 'network')
    yield
    CONF.clear_override('external_gateway', 'network')


def lines(sp):
    return [x.strip() for x in router.nft_ruleset(sp).splitlines()]


def test_the_snat_host_has_a_leg_per_snat_port_and_snats_what_arrives(hn, fake):
    hn.apply(snat_state('node-1'))
    sp = hn.resources['router:' + RTR1]
    sg1, sg2 = names.snat_ns_if(SNAT1), names.snat_ns_if(SNAT2)
    qg = names.gateway_ns_if(RTR1)
    assert [(leg['ns_if'], leg['mac'], leg['address'], leg['cidr'])
            for leg in sp['snat_legs']] == [(sg1, SMAC1, '10.1.0.3/32', '10.1.0.0/24'),
                                            (sg2, SMAC2, '10.2.0.3/32', '10.2.0.0/24')]
    assert sp['snat_redirects'] == []
    host_if = names.snat_host_if(SNAT1)
    assert host_if.startswith('rs-') and len(host_if) <= 15
    assert fake.links[(None, host_if)]['master'] == sp['legs'][0]['bridge']
    assert fake.links[(NS1, sg1)]['mac'] == SMAC1
    assert fake.links[(NS1, sg1)]['addrs'] == ['10.1.0.3/32']
    text = lines(sp)
    # from a SNAT leg only its own subnet, and only out of the gateway
    assert 'iifname "%s" oifname "%s" ip saddr 10.1.0.0/24 accept' % (sg1, qg) in text
    assert 'iifname "%s" oifname "%s" ip saddr 10.2.0.0/24 accept' % (sg2, qg) in text
    assert not [x for x in text if sg1 in x and 'oifname "qr-' in x]
    assert 'oifname "%s" ip saddr { 10.1.0.0/24, 10.2.0.0/24 } snat to 172.24.9.5' % qg \
        in text
    # ARP on the shared bridge: each leg answers for its own address only
    (sysctl,) = fake.ran('sysctl -q -w net.ipv4.conf.all.send_redirects=0')
    for key in ('net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.rp_filter=0',
                'net.ipv4.conf.%s.rp_filter=0' % sg1):
        assert key in sysctl
    assert fake.rules.get(NS1, set()) == set()
    # the SNAT ports' addresses and MACs are not the routers': ARP about them
    # crosses VXLAN, and their frames keep their MAC
    vx = snat_state('node-1')
    for n in vx['networks']:
        if not n['external']:
            n['vxlan'] = {'vni': 5, 'local_ip': '192.0.2.1', 'peers': ['192.0.2.2']}
    text = hn.desired(vx)[0]['firewall']['ruleset']
    assert 'arp daddr ip { 10.1.0.1 } drop' in text and '10.1.0.3' not in text
    assert SMAC1 not in text
    # a restarted agent finds it as it left it
    fake.reset()
    again = plane.HostNetwork(hn.state_dir, 'node-1', runner=fake)
    assert again.apply(snat_state('node-1'))['changed'] is False


def test_a_host_without_the_gateway_sends_its_subnets_to_the_snat_ports(hn, fake,
                                                                        elsewhere):
    route = {'destination': '10.9.0.0/16', 'nexthop': '10.2.0.254'}
    hn.apply(snat_state('node-0', routes=[route]))
    sp = hn.resources['router:' + RTR1]
    qr1, qr2 = names.router_ns_if(ITF1), names.router_ns_if(ITF2)
    assert sp['snat_legs'] == []
    assert sp['snat_redirects'] == [
        {'cidr': '10.1.0.0/24', 'via': '10.1.0.3', 'dev': qr1, 'table': int(TABLE1)},
        {'cidr': '10.2.0.0/24', 'via': '10.2.0.3', 'dev': qr2, 'table': int(TABLE2)}]
    assert fake.rules[NS1] == {
        (20000, '10.1.0.10/32', 'all', 'main'),      # A has a floating IP here
        (21000, 'all', '10.1.0.0/24', 'main'),       # the router's own subnets
        (21000, 'all', '10.2.0.0/24', 'main'),
        (21000, 'all', '10.9.0.0/16', 'main'),       # and its static routes
        (22000, '10.1.0.0/24', 'all', TABLE1),       # the rest: to the SNAT port
        (22000, '10.2.0.0/24', 'all', TABLE2)}
    assert fake.route_tables[(NS1, TABLE1)] == ['default', 'via', '10.1.0.3', 'dev', qr1]
    assert fake.route_tables[(NS1, TABLE2)] == ['default', 'via', '10.2.0.3', 'dev', qr2]
    # the SNAT port is a permanent neighbour of the leg: ARP from a router
    # address never crosses VXLAN
    assert fake.ran('ip -n %s neigh replace 10.1.0.3 lladdr %s dev %s nud permanent'
                    % (NS1, SMAC1, qr1))
    (sysctl,) = fake.ran('sysctl -q -w net.ipv4.conf.all.send_redirects=0')
    assert 'net.ipv4.conf.%s.send_redirects=0' % qr1 in sysctl
    assert 'arp_ignore' not in sysctl
    # no SNAT here: the gateway address and its SNAT stay on the SNAT host
    text = lines(sp)
    assert not [x for x in text if '172.24.9.5' in x]
    assert not fake.link_exists(names.snat_host_if(SNAT1))
    # a restarted agent changes nothing; a lost rule comes back once the
    # router is made again
    fake.reset()
    again = plane.HostNetwork(hn.state_dir, 'node-1', runner=fake)
    assert again.apply(snat_state('node-0', routes=[route]))['changed'] is False
    fake.netns.discard(NS1)
    fake.rules.pop(NS1)
    assert again.apply(snat_state('node-0', routes=[route]))['updated'] == ['router:' + RTR1]
    assert (22000, '10.1.0.0/24', 'all', TABLE1) in fake.rules[NS1]


def test_the_rules_go_with_the_gateway_and_the_interface(hn, fake, elsewhere):
    hn.apply(snat_state('node-0'))
    state = snat_state('node-0')
    del state['routers'][0]['interfaces'][1]                 # the NET2 interface goes
    del state['routers'][0]['snat_ports'][1]
    state['routers'][0]['floating_ips'] = []                 # and A's floating IP
    assert hn.apply(state)['updated'] == ['router:' + RTR1]
    assert fake.rules[NS1] == {(21000, 'all', '10.1.0.0/24', 'main'),
                               (22000, '10.1.0.0/24', 'all', TABLE1)}
    assert (NS1, TABLE2) not in fake.route_tables
    state['routers'][0]['snat_ports'] = []                   # the gateway goes
    hn.apply(state)
    assert fake.rules[NS1] == set() and (NS1, TABLE1) not in fake.route_tables
    assert fake.ran('ip -n %s neigh del 10.1.0.3 dev %s' % (NS1, names.router_ns_if(ITF1)))


def test_the_snat_leg_goes_when_the_ports_move_or_go(hn, fake):
    hn.apply(snat_state('node-1'))
    assert fake.link_exists(names.snat_host_if(SNAT1))
    # another host serves SNAT now: this one, still holding a gateway,
    # SNATs its own guests and redirects nobody
    summary = hn.apply(snat_state('node-9'))
    assert summary['updated'] == ['router:' + RTR1]
    assert not fake.link_exists(names.snat_host_if(SNAT1))
    sp = hn.resources['router:' + RTR1]
    assert sp['snat_legs'] == [] and sp['snat_redirects'] == []
    hn.apply(snat_state('node-1'))
    assert fake.link_exists(names.snat_host_if(SNAT2))
    # teardown takes the legs too
    hn.teardown()
    assert not fake.link_exists(names.snat_host_if(SNAT1))
    assert not fake.link_exists(names.snat_host_if(SNAT2))


def test_no_snat_ports_no_rules(hn, fake, elsewhere):
    state = snat_state(None)          # nobody serves SNAT (not bound yet)
    hn.apply(state)
    sp = hn.resources['router:' + RTR1]
    assert sp['snat_legs'] == [] and sp['snat_redirects'] == []
    assert fake.rules.get(NS1, set()) == set()
    assert router.snat_rules(sp) == set()
