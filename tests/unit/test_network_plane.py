"""compute.network without root: the nft ruleset, the dnsmasq files and
command line, the router's NAT, and HostNetwork's diff logic (what apply
creates, updates and removes; teardown; the registry) against a fake
command runner that keeps a small model of links, namespaces, processes and
nft tables."""

import json
import os
import signal

import pytest

from common import netnames
from common.conf import CONF
from common.host import cmd
from compute.network import cleanup
from compute.network import dhcp
from compute.network import firewall
from compute.network import names
from compute.network import plane
from compute.network import router
from compute.network import vxlan
from compute.virt import exception
from tests.fixtures.host_network import EXT
from tests.fixtures.host_network import ITF1
from tests.fixtures.host_network import ITF2
from tests.fixtures.host_network import MAC1
from tests.fixtures.host_network import NET1
from tests.fixtures.host_network import NET2
from tests.fixtures.host_network import PORT_A
from tests.fixtures.host_network import PORT_B
from tests.fixtures.host_network import PORT_C
from tests.fixtures.host_network import PORT_X
from tests.fixtures.host_network import RTR1
from tests.fixtures.host_network import RTR2
from tests.fixtures.host_network import SUB1
from tests.fixtures.host_network import chain
from tests.fixtures.host_network import make_state
from tests.fixtures.host_network import network
from tests.fixtures.host_network import port
from tests.fixtures.host_network import rule

# -- names --------------------------------------------------------------------------------

def test_device_names_fit_linux_and_tables_are_per_host():
    for fn in (names.dhcp_host_if, names.dhcp_ns_if, names.router_host_if,
               names.router_ns_if, names.gateway_host_if, names.gateway_ns_if):
        assert len(fn(NET1)) <= 15
    assert names.table_name('node-1') != names.table_name('node.1')
    assert names.table_name('Node-1').startswith('altostack_node_1_')


# -- firewall ruleset ------------------------------------------------------------------------


def test_rule_matches():
    m = firewall.rule_match
    assert m(rule('ingress', protocol='tcp', lo=22, hi=22), 'ingress') == \
        'meta nfproto ipv4 meta l4proto 6 th dport 22'
    assert m(rule('ingress', protocol='udp', lo=1000, hi=2000, prefix='10.0.0.0/8'),
             'ingress') == ('meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto 17 '
                            'th dport 1000-2000')
    assert m(rule('egress', prefix='192.0.2.0/24'), 'egress') == \
        'meta nfproto ipv4 ip daddr 192.0.2.0/24'
    assert m(rule('ingress', protocol='icmp', lo=8, hi=0), 'ingress') == \
        'meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 0'
    assert m(rule('ingress', 'IPv6', protocol='icmp', lo=128), 'ingress') == \
        'meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128'
    assert m(rule('ingress', 'IPv6', protocol='58'), 'ingress') == \
        'meta nfproto ipv6 meta l4proto ipv6-icmp'
    assert m(rule('ingress', remote=['10.0.0.7', '10.0.0.10', '10.0.0.9']), 'ingress') == \
        'meta nfproto ipv4 ip saddr { 10.0.0.7, 10.0.0.9, 10.0.0.10 }'
    assert m(rule('ingress', protocol='132', lo=5000, hi=None), 'ingress') == \
        'meta nfproto ipv4 meta l4proto 132 th dport 5000'
    assert m(rule('ingress', protocol='tcp', lo=1, hi=65535), 'ingress') == \
        'meta nfproto ipv4 meta l4proto 6'
    assert m(rule('ingress', prefix='0.0.0.0/0'), 'ingress') == 'meta nfproto ipv4'
    # rules that can match nothing are left out
    assert m(rule('ingress', remote=[]), 'ingress') is None
    assert m(rule('ingress', remote=['2001:db8::1']), 'ingress') is None
    assert m(rule('ingress', prefix='2001:db8::/64'), 'ingress') is None
    assert m(rule('ingress', protocol='58'), 'ingress') is None
    assert m(rule('ingress', protocol='nonsense'), 'ingress') is None


def test_ruleset_for_a_state(hn):
    want, index, zones = hn.desired(make_state())
    text = want['firewall']['ruleset']
    t = names.table_name('node-1')
    tap_a, tap_b, tap_c = netnames.tap(PORT_A), netnames.tap(PORT_B), netnames.tap(PORT_C)
    assert index == {tap_a: 1, tap_b: 2}       # C has no port security: no index
    assert zones == {netnames.bridge(NET1): 1, netnames.bridge(NET2): 2}
    # one transaction that replaces both tables
    assert text.startswith('table bridge %s {\n}\ndelete table bridge %s\n' % (t, t))
    assert '\ntable inet %s {\n}\ndelete table inet %s\ntable inet %s {\n' % (t, t, t) in text
    lines = [x.strip() for x in text.splitlines()]
    assert 'type filter hook forward priority -200; policy accept;' in lines
    assert 'iifname "%s" meta mark set meta mark and 0xffff0000 or 0x1' % tap_a in lines
    assert 'oifname "%s" meta mark set meta mark and 0x0000ffff or 0x20000' % tap_b in lines
    assert 'iifname vmap { "%s" : jump spoof_1, "%s" : jump spoof_2 }' % (tap_a, tap_b) in lines
    assert tap_c not in text
    # anti-spoofing of A
    spoof = chain(text, 'spoof_1')
    assert 'ether saddr != fa:16:3e:aa:00:01 drop' in spoof
    assert 'ether type arp arp saddr ip != { 0.0.0.0, 10.1.0.10 } drop' in spoof
    assert 'ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return' in spoof
    assert 'ether type ip ip saddr != { 10.1.0.10 } drop' in spoof
    assert 'ether type ip udp sport 67 drop' in spoof
    assert spoof[-1] == 'drop'
    # conntrack zones and the dispatch
    assert 'ct zone set iifname map { "%s" : 1, "%s" : 2 }' % (
        netnames.bridge(NET1), netnames.bridge(NET2)) in lines
    assert 'meta mark and 0x0000ffff vmap { 0x1 : jump egress_1, 0x2 : jump egress_2 }' in lines
    assert ('meta mark and 0xffff0000 vmap { 0x10000 : jump ingress_1, '
            '0x20000 : jump ingress_2 }') in lines
    bridges = sorted([netnames.bridge(EXT), netnames.bridge(NET1), netnames.bridge(NET2)])
    assert 'iifname != { %s } return' % ', '.join('"%s"' % b for b in bridges) in lines
    ingress = chain(text, 'ingress_1')
    assert ingress == [
        'ct state established,related accept', 'ct state invalid drop',
        'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
        'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
        'meta nfproto ipv6 icmpv6 type { %s } accept' % firewall.ND_TYPES_IN,
        'meta nfproto ipv4 ip saddr { 10.1.0.10, 10.1.0.11 } accept',
        'meta nfproto ipv4 meta l4proto icmp accept',
        'drop']
    egress = chain(text, 'egress_2')
    assert egress[-3:] == ['meta nfproto ipv4 return', 'meta nfproto ipv6 return', 'drop']
    assert 'meta nfproto ipv4 udp sport 68 udp dport 67 return' in egress


def test_ruleset_without_secured_ports_has_no_empty_sets():
    text = firewall.ruleset('altostack_x', [], {}, set(), {})
    assert '{ }' not in text and 'vmap' not in text and 'map {' not in text


def test_port_indexes_are_stable():
    idx = firewall.assign_indexes({'tapa', 'tapb', 'tapc'}, {})
    assert idx == {'tapa': 1, 'tapb': 2, 'tapc': 3}
    idx = firewall.assign_indexes({'tapc', 'tapd'}, idx)
    assert idx == {'tapc': 3, 'tapd': 1}


# -- dnsmasq ---------------------------------------------------------------------------------

def test_dnsmasq_files_and_command_line(hn):
    want, _i, _z = hn.desired(make_state())
    sp = want['dhcp:' + NET1]
    assert 'dhcp:' + EXT not in want            # no DHCP port, no DHCP subnet
    assert 'dhcp:' + NET2 in want
    assert sp['hosts'] == ('fa:16:3e:aa:00:01,10.1.0.10,vm-a\n'
                           'fa:16:3e:bb:00:01,10.1.0.11,host-10-1-0-11\n')
    tag = 'tag:subnet-' + SUB1
    assert sp['opts'].splitlines() == [
        tag + ',option:router,10.1.0.1',
        tag + ',option:dns-server,192.0.2.53',
        tag + ',option:classless-static-route,10.9.0.0/16,10.1.0.254,0.0.0.0/0,10.1.0.1',
        tag + ',option:mtu,1450']
    argv = sp['argv']
    assert argv[0] == 'dnsmasq'
    for opt in ('--port=0', '--bind-interfaces', '--dhcp-authoritative', '--no-resolv',
                '--interface=' + names.dhcp_ns_if(NET1),
                '--dhcp-range=set:subnet-%s,10.1.0.0,static,255.255.255.0,600s' % SUB1,
                '--dhcp-hostsfile=%s' % sp['files']['host'],
                '--dhcp-optsfile=%s' % sp['files']['opts'],
                '--dhcp-leasefile=%s' % sp['files']['leases'],
                '--pid-file=%s' % sp['files']['pid']):
        assert opt in argv
    assert sp['files']['dir'].startswith(hn.state_dir)
    assert sp['addresses'] == ['10.1.0.2/24'] and sp['netns'] == 'qdhcp-' + NET1
    assert sp['mac'] == 'fa:16:3e:00:00:11'


def test_dhcp_options_without_gateway_and_ipv6():
    net = network(NET1, SUB1, '10.1.0.0/24', None, '10.1.0.2')
    net['subnets'].append({'id': 'v6', 'cidr': '2001:db8::/64', 'gateway_ip': '2001:db8::1',
                           'enable_dhcp': True, 'dns_nameservers': ['2001:db8::53'],
                           'host_routes': []})
    opts = dhcp.opts_file(net, 1450).splitlines()
    assert opts[0] == 'tag:subnet-%s,option:router' % SUB1
    assert 'tag:subnet-v6,option6:dns-server,[2001:db8::53]' in opts
    p = port(PORT_A, NET1, SUB1, 'FA:16:3E:AA:00:01', '10.1.0.10', hostname='Web_1')
    p['fixed_ips'].append({'subnet_id': 'v6', 'ip_address': '2001:db8::10'})
    p['fixed_ips'].append({'subnet_id': 'elsewhere', 'ip_address': '10.7.0.1'})
    assert dhcp.hosts_file(net, [p]) == ('fa:16:3e:aa:00:01,10.1.0.10,web-1\n'
                                         'fa:16:3e:aa:00:01,[2001:db8::10],web-1\n')
    argv = dhcp.dnsmasq_argv(net, 'ns-x', dhcp.paths('/s', NET1), 60)
    assert '--dhcp-range=set:subnet-v6,2001:db8::,static,64,60s' in argv


def test_leases_file(tmp_path):
    sp = {'files': {'leases': str(tmp_path / 'leases')}}
    assert dhcp.leases(sp) == []
    (tmp_path / 'leases').write_text('1700000000 fa:16:3e:aa:00:01 10.1.0.10 vm-a *\n')
    assert dhcp.leases(sp) == [(1700000000, 'fa:16:3e:aa:00:01', '10.1.0.10', 'vm-a')]


# -- router --------------------------------------------------------------------------------------

def test_router_nat_and_forward_policy(hn):
    want, _i, _z = hn.desired(make_state())
    assert not [k for k in want if k.startswith('router:') and k[7:] in (EXT, NET1, NET2)]
    sp = want['router:' + RTR1]
    assert sp['netns'] == 'qrouter-' + RTR1
    assert [leg['addresses'] for leg in sp['legs']] == [['10.1.0.1/24']]
    assert sp['legs'][0]['mac'] == MAC1
    assert sp['external']['fips'] == [{'fip': '172.24.9.10', 'fixed': '10.1.0.10'}]
    assert sp['external']['gateway'] == '172.24.9.1'
    text = router.nft_ruleset(sp)
    lines = [x.strip() for x in text.splitlines()]
    qr, qg = names.router_ns_if(ITF1), names.gateway_ns_if(RTR1)
    assert 'ip daddr 172.24.9.10 dnat to 10.1.0.10' in lines
    assert 'oifname "%s" ip saddr 10.1.0.10 snat to 172.24.9.10' % qg in lines
    assert 'type filter hook forward priority 0; policy drop;' in lines
    assert 'ct status dnat accept' in lines
    assert 'iifname { "%s" } oifname "%s" ip saddr { 10.1.0.10 } accept' % (qr, qg) in lines
    # NET2 has no floating IP and its router no SNAT: nothing leaves
    text2 = router.nft_ruleset(want['router:' + RTR2])
    assert 'snat' not in text2 and 'oifname "%s"' % names.gateway_ns_if(RTR2) not in text2


def test_router_without_external_network(hn):
    state = make_state()
    state['networks'] = [n for n in state['networks'] if not n['external']]
    want, _i, _z = hn.desired(state)
    assert want['router:' + RTR1]['external'] is None
    assert 'dnat to' not in router.nft_ruleset(want['router:' + RTR1])


# -- apply: what it makes, changes and removes ----------------------------------------------

def test_first_apply_makes_everything_in_order(hn, fake):
    summary = hn.apply(make_state())
    assert summary['changed'] and summary['updated'] == [] and summary['removed'] == []
    assert summary['created'] == sorted(summary['created'], key=plane._order)
    assert summary['created'][:3] == sorted(['bridge:' + netnames.bridge(n)
                                             for n in (EXT, NET1, NET2)])
    assert summary['created'][3] == 'firewall'
    for nid in (EXT, NET1, NET2):
        assert fake.link_exists(netnames.bridge(nid))
    assert fake.links[(None, netnames.bridge(EXT))]['addrs'] == ['172.24.9.1/24']
    assert fake.links[(None, netnames.bridge(NET1))]['addrs'] == []
    assert fake.ran('nf_call_iptables 1')
    assert {'qdhcp-' + NET1, 'qdhcp-' + NET2, 'qrouter-' + RTR1,
            'qrouter-' + RTR2} == fake.netns
    assert fake.links[('qdhcp-' + NET1, names.dhcp_ns_if(NET1))]['addrs'] == ['10.1.0.2/24']
    assert fake.links[('qdhcp-' + NET1, names.dhcp_ns_if(NET1))]['mac'] == 'fa:16:3e:00:00:11'
    assert fake.links[(None, names.dhcp_host_if(NET1))]['master'] == netnames.bridge(NET1)
    qg = fake.links[('qrouter-' + RTR1, names.gateway_ns_if(RTR1))]
    assert qg['addrs'] == ['172.24.9.10/32', '172.24.9.5/32']
    assert fake.links[(None, names.gateway_host_if(RTR1))]['master'] == netnames.bridge(EXT)
    qr = fake.links[('qrouter-' + RTR1, names.router_ns_if(ITF1))]
    assert (qr['addrs'], qr['mac']) == (['10.1.0.1/24'], MAC1)
    assert fake.ran('net.ipv4.ip_forward=1')
    assert fake.ran('default via 172.24.9.1 dev %s onlink' % names.gateway_ns_if(RTR1))
    assert len(fake.procs) == 2
    table = names.table_name('node-1')
    assert fake.tables == {'bridge ' + table, 'inet ' + table}
    assert fake.ns_tables['qrouter-' + RTR1] == {'ip ' + names.ROUTER_TABLE}
    reg = json.load(open(os.path.join(hn.state_dir, 'registry.json')))
    assert sorted(reg['resources']) == sorted(summary['created'])
    assert reg['failed'] == [] and reg['host'] == 'node-1'
    with open(reg['resources']['dhcp:' + NET1]['files']['host']) as f:
        assert 'fa:16:3e:aa:00:01,10.1.0.10,vm-a' in f.read()


def test_second_apply_runs_nothing(hn, fake):
    hn.apply(make_state())
    fake.reset()
    summary = hn.apply(make_state())
    assert summary['changed'] is False
    assert [a for a, _i in fake.commands] == []   # firewall checked < 10 s ago


def test_no_op_apply_checks_the_tables_now_and_then(hn, fake, monkeypatch):
    hn.apply(make_state())
    monkeypatch.setattr(plane, 'FIREWALL_CHECK_INTERVAL', 0)
    fake.reset()
    assert hn.apply(make_state())['changed'] is False
    assert fake.ran('nft list tables')
    fake.tables.clear()                       # somebody flushed the ruleset
    summary = hn.apply(make_state())
    assert summary['updated'] == ['firewall']
    assert len(fake.tables) == 2


def test_rule_change_rebuilds_only_the_firewall_in_one_transaction(hn, fake):
    state = make_state()
    hn.apply(state)
    fake.reset()
    state['ports'][1]['rules'].append(rule('ingress', protocol='tcp', lo=22, hi=22))
    summary = hn.apply(state)
    assert summary['updated'] == ['firewall'] and summary['created'] == []
    nft = [(a, i) for a, i in fake.commands if a[0] == 'nft']
    assert len(nft) == 1 and 'meta l4proto 6 th dport 22 accept' in nft[0][1]


def test_port_change_sighups_dnsmasq(hn, fake):
    state = make_state()
    hn.apply(state)
    pid = next(p for p, argv in fake.procs.items() if names.dhcp_ns_if(NET1) in ' '.join(argv))
    fake.reset()
    state['ports'].append(port(PORT_X, NET1, SUB1, 'fa:16:3e:dd:00:01', '10.1.0.12'))
    summary = hn.apply(state)
    assert sorted(summary['updated']) == ['dhcp:' + NET1, 'firewall']
    assert (pid, signal.SIGHUP) in fake.signals
    assert pid in fake.procs                  # not restarted
    assert not fake.ran('dnsmasq')


def test_subnet_change_restarts_dnsmasq(hn, fake, monkeypatch):
    state = make_state()
    hn.apply(state)
    CONF.set_override('dhcp_lease_time', 1200, 'network')
    old = set(fake.procs)
    summary = hn.apply(state)
    assert 'dhcp:' + NET1 in summary['updated']
    assert not old & set(fake.procs) and len(fake.procs) == 2
    assert all('1200s' in ' '.join(argv) for argv in fake.procs.values())


def test_floating_ip_removed(hn, fake):
    state = make_state()
    hn.apply(state)
    fake.reset()
    state['ports'][0]['floating_ips'] = []
    state['routers'][0]['floating_ips'] = []
    summary = hn.apply(state)
    assert summary['updated'] == ['router:' + RTR1]
    assert fake.links[('qrouter-' + RTR1, names.gateway_ns_if(RTR1))]['addrs'] == [
        '172.24.9.5/32']
    assert fake.ran('neigh flush dev %s to 172.24.9.10' % netnames.bridge(EXT))
    nft = [i for a, i in fake.commands if 'nft' in a]
    assert nft and 'dnat to' not in nft[0]


def test_network_gone_is_removed_in_reverse_order(hn, fake):
    state = make_state()
    hn.apply(state)
    fake.reset()
    state['networks'] = [n for n in state['networks'] if n['id'] != NET2]
    state['ports'] = [p for p in state['ports'] if p['network_id'] != NET2]
    state['routers'] = state['routers'][:1]
    summary = hn.apply(state)
    assert summary['removed'] == ['router:' + RTR2, 'dhcp:' + NET2,
                                  'bridge:' + netnames.bridge(NET2)]
    assert summary['updated'] == ['firewall']    # zones changed
    assert 'qdhcp-' + NET2 not in fake.netns and 'qrouter-' + RTR2 not in fake.netns
    assert not fake.link_exists(netnames.bridge(NET2))
    assert len(fake.procs) == 1
    assert not os.path.exists(os.path.join(hn.state_dir, 'dhcp', NET2))
    assert 'dhcp:' + NET2 not in hn.resources


def test_bridge_with_a_guest_still_on_it_is_kept(hn, fake):
    state = make_state()
    hn.apply(state)
    fake.add_tap(netnames.tap(PORT_C), netnames.bridge(NET2))
    state['networks'] = [n for n in state['networks'] if n['id'] != NET2]
    state['ports'] = [p for p in state['ports'] if p['network_id'] != NET2]
    summary = hn.apply(state)
    assert summary['deferred'] == ['bridge:' + netnames.bridge(NET2)]
    assert fake.link_exists(netnames.bridge(NET2))
    assert hn.apply(state)['changed'] is False      # nothing to do while it is busy
    del fake.links[(None, netnames.tap(PORT_C))]    # the guest went
    summary = hn.apply(state)
    assert summary['removed'] == ['bridge:' + netnames.bridge(NET2)]


def test_what_went_missing_is_made_again(hn, fake):
    state = make_state()
    hn.apply(state)
    pid = next(p for p, argv in fake.procs.items() if names.dhcp_ns_if(NET1) in ' '.join(argv))
    del fake.procs[pid]                                  # dnsmasq died
    fake._del((None, names.router_host_if(ITF2)))        # a leg was deleted
    fake._link(None, 'del', ['dev', netnames.bridge(EXT)], False)   # legs fall off it
    summary = hn.apply(state)
    assert sorted(summary['updated']) == sorted([
        'dhcp:' + NET1, 'router:' + RTR1, 'router:' + RTR2, 'bridge:' + netnames.bridge(EXT)])
    assert fake.links[(None, names.gateway_host_if(RTR1))]['master'] == netnames.bridge(EXT)
    assert len(fake.procs) == 2
    assert fake.link_exists(names.router_host_if(ITF2))
    assert fake.links[(None, netnames.bridge(EXT))]['addrs'] == ['172.24.9.1/24']


def test_a_new_dhcp_leg_restarts_dnsmasq(hn, fake):
    state = make_state()
    hn.apply(state)
    old = {p for p, argv in fake.procs.items() if names.dhcp_ns_if(NET1) in ' '.join(argv)}
    fake._del((None, names.dhcp_host_if(NET1)))          # dnsmasq was bound to the old one
    summary = hn.apply(state)
    assert summary['updated'] == ['dhcp:' + NET1]
    new = {p for p, argv in fake.procs.items() if names.dhcp_ns_if(NET1) in ' '.join(argv)}
    assert len(new) == 1 and not new & old


def test_a_failure_is_reported_and_retried(hn, fake):
    state = make_state()
    fake.fail['--interface=' + names.dhcp_ns_if(NET2)] = 'dnsmasq: failed to bind'
    with pytest.raises(exception.NetworkApplyFailed, match='failed to bind'):
        hn.apply(state)
    assert 'router:' + RTR2 in hn.resources          # the rest was done
    assert fake.link_exists(netnames.bridge(NET2))
    reg = json.load(open(hn.registry_path))
    assert reg['failed'] == ['dhcp:' + NET2]
    del fake.fail['--interface=' + names.dhcp_ns_if(NET2)]
    summary = hn.apply(state)
    assert summary['updated'] == ['dhcp:' + NET2]
    assert hn.apply(state)['changed'] is False


def test_no_security_groups_without_br_netfilter(hn, fake):
    fake.br_netfilter = False
    with pytest.raises(exception.NetworkApplyFailed, match='br_netfilter'):
        hn.apply(make_state())
    assert fake.ran('modprobe br_netfilter')
    assert fake.tables == set() and len(fake.procs) == 2   # the rest is there
    fake.br_netfilter = True
    assert hn.apply(make_state())['updated'] == ['firewall']


def test_command_errors_carry_stderr(fake):
    fake.fail['link add'] = 'RTNETLINK answers: Operation not permitted'
    with pytest.raises(exception.NetworkCommandFailed, match='Operation not permitted'):
        fake.ip('link', 'add', 'x', 'type', 'bridge')


def test_restarted_agent_knows_what_it_made(hn, fake, tmp_path):
    state = make_state()
    hn.apply(state)
    again = plane.HostNetwork(hn.state_dir, 'node-1', runner=fake)
    fake.reset()
    assert again.apply(state)['changed'] is False
    assert again.resources == hn.resources


def test_teardown_removes_what_the_registry_lists_and_nothing_else(hn, fake):
    fake.links[(None, 'brqsomeoneelse')] = {'kind': 'bridge', 'master': None, 'addrs': [],
                                            'mac': 'x', 'mtu': 1500}
    fake.netns.add('qdhcp-foreign')
    fake.tables.add('inet somebody')
    hn.apply(make_state())
    removed = hn.teardown()
    assert removed[0].startswith('router:') and removed[-1].startswith('bridge:')
    assert set(fake.links) == {(None, 'brqsomeoneelse')}
    assert fake.netns == {'qdhcp-foreign'}
    assert fake.tables == {'inet somebody'}
    assert fake.procs == {}
    assert not os.path.exists(hn.state_dir)
    assert hn.teardown() == []                       # again: nothing to do
    # and it can start over
    assert hn.apply(make_state())['created']


def test_cleanup_command_uses_the_registry(hn, fake, monkeypatch, capsys):
    hn.apply(make_state())
    monkeypatch.setattr(cmd, 'Runner', lambda *a, **kw: fake)
    parsed = []
    monkeypatch.setattr(cleanup.config, 'parse_args', parsed.append)
    assert cleanup.main(['--state-dir', hn.state_dir]) == 0
    assert parsed == [[]]
    assert 'removed 8 item(s)' in capsys.readouterr().out
    assert fake.netns == set() and fake.procs == {} and fake.tables == set()
    assert cleanup.main(['--state-dir', hn.state_dir]) == 0


def test_runner_runs_and_times_out():
    r = cmd.Runner(timeout=5)
    assert r.run(['true']).ok
    with pytest.raises(exception.NetworkCommandFailed, match='boom'):
        r.run(['sh', '-c', 'echo boom >&2; exit 3'])
    assert r.run(['sh', '-c', 'exit 3'], check=False).returncode == 3
    with pytest.raises(exception.NetworkCommandFailed, match='timed out'):
        cmd.Runner(timeout=0.2).run(['sleep', '5'])
    assert r.run(['cat'], input_text='hi').stdout == 'hi'
    assert r.run(['true'], netns='x', check=False).argv[:4] == ['ip', 'netns', 'exec', 'x']
    assert r.process_cmdline(os.getpid())
    assert r.process_cmdline(2 ** 22 + 7) is None
    assert r.link_master('lo') is None and r.link_exists('lo')


# -- VXLAN segments ---------------------------------------------------------------------------

LOCAL, PEER1, PEER2, PEER3 = '192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'
VX1 = names.vxlan_if(NET1)


def vx_state(peers=(PEER2, PEER1), net2_peers=()):
    """make_state with NET1 spanning this host and ``peers`` (VNI 1001) and
    NET2 with ``net2_peers`` (VNI 1002)."""
    state = make_state()
    for n in state['networks']:
        if n['id'] == NET1:
            n['segmentation_id'] = 1001
            n['vxlan'] = {'vni': 1001, 'local_ip': LOCAL, 'peers': list(peers)}
        elif n['id'] == NET2:
            n['segmentation_id'] = 1002
            n['vxlan'] = {'vni': 1002, 'local_ip': LOCAL, 'peers': list(net2_peers)}
        else:
            n['vxlan'] = None
    return state


def fdb(fake, dev):
    return sorted(dst for _mac, dst in fake.links[(None, dev)]['fdb'])


def test_vxlan_spec_names_and_what_needs_no_tunnel():
    assert len(VX1) <= 15 and VX1 == 'vx-' + NET1[:11]
    assert VX1.startswith(names.OWN_PREFIXES)      # never mistaken for a guest tap
    net = vx_state()['networks'][1]
    assert vxlan.spec(net, 4789, 1450) == {
        'network_id': NET1, 'name': VX1, 'bridge': netnames.bridge(NET1), 'vni': 1001,
        'local': LOCAL, 'port': 4789, 'mtu': 1450, 'peers': [PEER1, PEER2]}
    # no peer, the local address itself, the other IP version: no tunnel
    net['vxlan']['peers'] = [LOCAL, '2001:db8::2']
    assert vxlan.spec(net, 4789, 1450) is None
    net['vxlan'] = None
    assert vxlan.spec(net, 4789, 1450) is None
    ext = dict(vx_state()['networks'][0], vxlan={'vni': 5, 'local_ip': LOCAL,
                                                 'peers': [PEER1]}, external=True)
    assert vxlan.spec(ext, 4789, 1450) is None


def test_vxlan_device_and_fdb_are_made(hn, fake):
    CONF.set_override('vxlan_port', 4790, 'network')
    try:
        summary = hn.apply(vx_state())
    finally:
        CONF.clear_override('vxlan_port', 'network')
    created = summary['created']
    assert 'vxlan:' + NET2 not in created               # no peer: the network stays local
    # after the firewall that guards it, before DHCP and routers
    assert created.index('firewall') < created.index('vxlan:' + NET1) < min(
        created.index(k) for k in created if k.startswith(('dhcp:', 'router:')))
    assert fake.ran('ip link add %s type vxlan id 1001 local %s dstport 4790 nolearning'
                    % (VX1, LOCAL))
    assert fake.ran('ip link set dev %s master %s mtu 1450 up' % (VX1, netnames.bridge(NET1)))
    assert fake.ran('bridge fdb append 00:00:00:00:00:00 dev %s dst %s' % (VX1, PEER1))
    assert fake.ran('bridge fdb append 00:00:00:00:00:00 dev %s dst %s' % (VX1, PEER2))
    link = fake.links[(None, VX1)]
    assert (link['master'], link['mtu'], link['info']) == (
        netnames.bridge(NET1), 1450,
        {'id': 1001, 'local': LOCAL, 'port': 4790, 'learning': False})
    assert fdb(fake, VX1) == [PEER1, PEER2]
    assert hn.resources['vxlan:' + NET1]['peers'] == [PEER1, PEER2]
    assert VX1 in hn.inventory()['links']
    fake.reset()
    CONF.set_override('vxlan_port', 4790, 'network')
    try:
        assert hn.apply(vx_state())['changed'] is False
    finally:
        CONF.clear_override('vxlan_port', 'network')
    assert fake.commands == []
    # another port: the device is made again
    assert hn.apply(vx_state())['updated'] == ['vxlan:' + NET1]
    assert fake.links[(None, VX1)]['info']['port'] == 4789


def test_vxlan_peers_converge(hn, fake):
    hn.apply(vx_state())
    fake.reset()
    summary = hn.apply(vx_state(peers=[PEER2, PEER3]))
    assert summary['updated'] == ['vxlan:' + NET1]      # the firewall names no peer
    assert fake.ran('bridge fdb append 00:00:00:00:00:00 dev %s dst %s' % (VX1, PEER3))
    assert fake.ran('bridge fdb del 00:00:00:00:00:00 dev %s dst %s' % (VX1, PEER1))
    assert not fake.ran('link add') and not fake.ran('link del')
    assert fdb(fake, VX1) == [PEER2, PEER3]
    # an entry someone removed comes back with the next change
    fake.links[(None, VX1)]['fdb'].clear()
    hn.apply(vx_state(peers=[PEER3]))
    assert fdb(fake, VX1) == [PEER3]


def test_vxlan_goes_with_its_last_peer_before_the_firewall_forgets_it(hn, fake):
    hn.apply(vx_state())
    fake.reset()
    summary = hn.apply(vx_state(peers=[]))
    assert summary['removed'] == ['vxlan:' + NET1] and summary['updated'] == ['firewall']
    assert not fake.link_exists(VX1)
    lines = [' '.join(a) for a, _i in fake.commands]
    delete = lines.index('ip link del dev %s' % VX1)
    assert delete < lines.index('nft -f -')
    assert VX1 not in hn.resources.get('firewall')['ruleset']
    # and comes back with a peer
    assert hn.apply(vx_state(peers=[PEER3]))['created'] == ['vxlan:' + NET1]
    assert fdb(fake, VX1) == [PEER3]


def test_vxlan_remade_when_its_vni_changes_or_it_went_missing(hn, fake):
    hn.apply(vx_state())
    state = vx_state()
    state['networks'][1]['vxlan']['vni'] = 1003
    fake.reset()
    assert hn.apply(state)['updated'] == ['vxlan:' + NET1]
    assert fake.ran('ip link del dev %s' % VX1)
    assert fake.links[(None, VX1)]['info']['id'] == 1003 and fdb(fake, VX1) == [PEER1, PEER2]
    fake._del((None, VX1))                              # somebody deleted it
    assert hn.apply(state)['updated'] == ['vxlan:' + NET1]
    assert fake.links[(None, VX1)]['master'] == netnames.bridge(NET1)
    fake._link(None, 'del', ['dev', netnames.bridge(NET1)], False)   # or its bridge
    summary = hn.apply(state)
    assert {'bridge:' + netnames.bridge(NET1), 'vxlan:' + NET1} <= set(summary['updated'])
    assert fake.links[(None, VX1)]['master'] == netnames.bridge(NET1)


def test_vxlan_removed_with_its_network_and_by_teardown(hn, fake):
    state = vx_state(net2_peers=[PEER1])
    hn.apply(state)
    vx2 = names.vxlan_if(NET2)
    assert fake.link_exists(vx2)
    state['networks'] = [n for n in state['networks'] if n['id'] != NET2]
    state['ports'] = [p for p in state['ports'] if p['network_id'] != NET2]
    state['routers'] = state['routers'][:1]
    summary = hn.apply(state)
    assert summary['removed'] == ['vxlan:' + NET2, 'router:' + RTR2, 'dhcp:' + NET2,
                                  'bridge:' + netnames.bridge(NET2)]
    assert not fake.link_exists(vx2) and fake.link_exists(VX1)
    removed = hn.teardown()
    assert 'vxlan:' + NET1 in removed
    assert removed.index('vxlan:' + NET1) < removed.index('firewall')
    assert fake.links == {}


def test_no_vxlan_without_the_firewall(hn, fake):
    fake.br_netfilter = False
    with pytest.raises(exception.NetworkApplyFailed) as e:
        hn.apply(vx_state())
    assert 'vxlan:%s: the firewall is not in place' % NET1 in str(e.value)
    assert not fake.link_exists(VX1)
    fake.br_netfilter = True
    summary = hn.apply(vx_state())
    assert summary['updated'] == ['firewall', 'vxlan:' + NET1]
    assert fdb(fake, VX1) == [PEER1, PEER2]


def test_a_vni_taken_on_this_kernel_fails_only_its_segment(hn, fake):
    fake.links[(None, 'vx-other')] = {'kind': 'vxlan', 'master': None, 'addrs': [],
                                      'mac': 'x', 'mtu': 1500, 'fdb': [],
                                      'info': {'id': 1001, 'local': '192.0.2.9',
                                               'port': 4789, 'learning': False}}
    with pytest.raises(exception.NetworkApplyFailed, match='VNI already exists'):
        hn.apply(vx_state())
    assert hn.resources['router:' + RTR1] and len(fake.procs) == 2
    assert json.load(open(hn.registry_path))['failed'] == ['vxlan:' + NET1]


def test_ruleset_keeps_routers_and_dhcp_on_their_host(hn):
    state = vx_state()
    state['networks'][1]['subnets'].append({
        'id': 'sub-1b', 'cidr': '10.3.0.0/24', 'gateway_ip': '10.3.0.1', 'enable_dhcp': True,
        'dns_nameservers': [], 'host_routes': []})
    want, index, _z = hn.desired(state)
    text = want['firewall']['ruleset']
    assert chain(text, 'vxlan_in') == [
        'type filter hook prerouting priority -200; policy accept;',
        'iifname { "%s" } meta mark set 0x0' % VX1,
        'iifname vmap { "%s" : jump vxlan_1 }' % VX1]
    assert chain(text, 'vxlan_out') == [
        'type filter hook postrouting priority -200; policy accept;',
        'oifname { "%s" } ether saddr { %s } ether type ip ether saddr set %s' % (
            VX1, MAC1, names.host_router_mac('node-1')),
        'oifname vmap { "%s" : jump vxlan_1 }' % VX1,
        'oifname { "%s" } meta mark set 0x0' % VX1]
    assert chain(text, 'vxlan_1') == [
        'ether saddr { %s } drop' % MAC1, 'ether daddr { %s } drop' % MAC1,
        'ether type arp arp saddr ip { 10.1.0.1, 10.3.0.1 } drop',
        'ether type arp arp daddr ip { 10.1.0.1, 10.3.0.1 } drop',
        'ether type ip udp dport { 67, 68 } drop',
        'ether type ip6 udp dport { 546, 547 } drop']
    assert names.vxlan_if(NET2) not in text              # NET2 has no peer
    # A frame from a remote guest comes from no local port: mark 0 at
    # prerouting, then only the high bits of the port it goes to, so the
    # egress dispatch (low bits) finds nothing and the ingress one applies.
    lines = [x.strip() for x in text.splitlines()]
    tap_b = netnames.tap(PORT_B)
    assert 'oifname "%s" meta mark set meta mark and 0x0000ffff or 0x20000' % tap_b in lines
    assert 'meta mark and 0x0000ffff vmap { 0x1 : jump egress_1, 0x2 : jump egress_2 }' in lines
    assert ('meta mark and 0xffff0000 vmap { 0x10000 : jump ingress_1, '
            '0x20000 : jump ingress_2 }') in lines
    assert 0 not in index.values()
    assert not [x for x in chain(text, 'port_marks') if VX1 in x]
    # without segments the chains are empty (no empty sets)
    text = firewall.ruleset('altostack_x', [], {}, set(), {})
    assert chain(text, 'vxlan_in') == [
        'type filter hook prerouting priority -200; policy accept;']
