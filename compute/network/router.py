"""A Neutron router on this host: namespace qrouter-<router id>.

* one leg qr-<port> per interface port of the router, holding the port's
  addresses with the subnet prefix and the port's MAC (the same on every
  host: each host's guests use their local router; the firewall keeps ARP
  about router addresses off VXLAN and gives routed frames leaving through
  VXLAN this host's own source MAC), with the guests of its network (on
  any host) as permanent neighbours, so east-west traffic is routed on the
  sender's host and crosses VXLAN on the destination network;
* when the router has a gateway on an external network of the state, a leg
  qg-<router> into that network's bridge holding the floating IPs of this
  host's ports behind the router as /32 (and, on the host that holds the
  external gateway, the gateway port's address), a link route to the
  external subnet and the default route via its gateway (onlink);
* centralized SNAT (Neutron DVR's), for guests without a floating IP on
  any host: the router has a SNAT port per IPv4 interface subnet
  (network/snat.py), bound to the host that holds the external gateway.
  There, a leg sg-<port> on the subnet's bridge holds the port's MAC and
  address (/32: replies go back by the qr- leg, which knows every guest)
  and what arrives on it from its subnet is SNATed out of qg-; the legs
  answer ARP only for their own addresses (arp_ignore) and rp_filter is
  off. On a host that does not hold the gateway, each subnet of a leg
  whose SNAT port is elsewhere gets a table with the default route to the
  port's address (a permanent neighbour of the leg) and ``ip rule``s:
  fixed addresses with a floating IP here and destinations the router
  reaches itself (its subnets here, its static routes) keep the main
  table, the rest of the subnet's traffic looks up the subnet's table;
  ICMP redirects are off. The firewall lets ARP about the SNAT ports'
  addresses cross VXLAN (they are unique, unlike the router legs');
* the router's static routes (``proto static``), ip_forward=1 inside the
  namespace only;
* nft ``table ip altostack_router``: per floating IP, DNAT fip -> fixed in
  prerouting and SNAT fixed -> fip out of qg-; SNAT of the subnets behind
  the router to the gateway port's address (enable_snat, on the gateway
  host only); hairpin masquerade for a guest reaching a floating IP on its
  own subnet; forward policy drop, except replies, traffic between the
  router's own interfaces (east-west, and a subnet's traffic to its SNAT
  port, which leaves by the leg it came in), DNATed traffic in, traffic
  out of qg- from fixed addresses with a floating IP or from SNATed
  subnets, and from a SNAT leg out of qg- from that leg's subnet only.

Two routers never meet: each namespace has only its own legs, and a
network with no router has no namespace at all (no way out).
"""

import ipaddress

from oslo_log import log as logging

from compute.network import bridge as br
from compute.network import names

LOG = logging.getLogger(__name__)


def _v4(ip):
    return ipaddress.ip_address(ip.split('/')[0]).version == 4


def _ips(items):
    return ', '.join(sorted(set(items), key=lambda x: ipaddress.ip_network(x,
                                                                          strict=False)))


def nft_ruleset(sp):
    """The namespace's nft script (replaces its table in one transaction)."""
    legs = sp['legs']
    ext = sp.get('external')
    fips = ext['fips'] if ext else []
    qrs = '{ %s }' % ', '.join('"%s"' % leg['ns_if'] for leg in legs)
    cidrs = [c for leg in legs for c in leg['cidrs']]
    t = names.ROUTER_TABLE
    pre, post = [], []
    for f in fips:
        pre.append('ip daddr %s dnat to %s' % (f['fip'], f['fixed']))
        post.append('oifname "%s" ip saddr %s snat to %s' % (ext['ns_if'], f['fixed'],
                                                              f['fip']))
    snat = ext and ext.get('snat') and cidrs
    if snat:
        post.append('oifname "%s" ip saddr { %s } snat to %s' % (
            ext['ns_if'], _ips(cidrs), ext['address'].split('/')[0]))
    for leg in legs:
        # Hairpin: a guest reaching a floating IP on its own subnet.
        for cidr in leg['cidrs']:
            post.append('oifname "%s" ct status dnat ip saddr %s masquerade'
                        % (leg['ns_if'], cidr))
    fwd = ['ct state established,related accept',
           # East-west between the router's own interfaces; before the
           # invalid check: a reply may come back through another host's
           # router, so this one may see only one direction.
           'iifname %s oifname %s accept' % (qrs, qrs),
           'ct state invalid drop', 'ct status dnat accept']
    if fips:
        fwd.append('iifname %s oifname "%s" ip saddr { %s } accept' % (
            qrs, ext['ns_if'], _ips(f['fixed'] for f in fips)))
    if snat:
        fwd.append('iifname %s oifname "%s" ip saddr { %s } accept' % (
            qrs, ext['ns_if'], _ips(cidrs)))
        # Centralized SNAT: what the other hosts' routers send to a SNAT
        # leg leaves by the gateway, from that leg's subnet only.
        for leg in sp.get('snat_legs') or []:
            fwd.append('iifname "%s" oifname "%s" ip saddr %s accept' % (
                leg['ns_if'], ext['ns_if'], leg['cidr']))
    lines = ['table ip %s {' % t, '}', 'delete table ip %s' % t, 'table ip %s {' % t,
             '  chain nat_pre {',
             '    type nat hook prerouting priority -100; policy accept;']
    lines += ['    ' + x for x in pre]
    lines += ['  }', '  chain nat_post {',
              '    type nat hook postrouting priority 100; policy accept;']
    lines += ['    ' + x for x in post]
    lines += ['  }', '  chain filter_forward {',
              '    type filter hook forward priority 0; policy drop;']
    lines += ['    ' + x for x in fwd]
    lines += ['  }', '}']
    return '\n'.join(lines) + '\n'


def _leg(itf, net, default_mtu):
    addresses, cidrs = [], []
    for f in itf.get('fixed_ips') or []:
        if not f.get('cidr') or not _v4(f['ip_address']):
            continue
        prefix = ipaddress.ip_network(f['cidr'], strict=False)
        addresses.append('%s/%d' % (f['ip_address'], prefix.prefixlen))
        if str(prefix) not in cidrs:
            cidrs.append(str(prefix))
    if not addresses:
        return None
    pid = itf['port_id']
    nets = [ipaddress.ip_network(c) for c in cidrs]
    neighbours = sorted({(n['ip_address'], n['mac_address'].lower())
                         for n in itf.get('neighbours') or []
                         if _v4(n['ip_address'])
                         and any(ipaddress.ip_address(n['ip_address']) in c for c in nets)},
                        key=lambda x: ipaddress.ip_address(x[0]))
    return {'port_id': pid, 'host_if': names.router_host_if(pid),
            'ns_if': names.router_ns_if(pid), 'bridge': net['bridge'],
            'mtu': net.get('mtu') or default_mtu, 'mac': itf['mac_address'].lower(),
            'addresses': addresses, 'cidrs': cidrs,
            'neighbours': [list(x) for x in neighbours]}


def _external(rt, nets, default_mtu, hold_gateway):
    gw = rt.get('gateway')
    net = nets.get(gw['network_id']) if gw else None
    if net is None or not net.get('external'):
        return None
    addr = next((f for f in gw.get('fixed_ips') or [] if _v4(f['ip_address'])
                 and f.get('cidr')), None)
    if addr is None:
        return None
    cidr = ipaddress.ip_network(addr['cidr'], strict=False)
    fips = [{'fip': f['floating_ip_address'], 'fixed': f['fixed_ip_address']}
            for f in rt.get('floating_ips') or []
            if f.get('floating_ip_address') and f.get('fixed_ip_address')
            and _v4(f['floating_ip_address'])]
    fips.sort(key=lambda f: ipaddress.ip_address(f['fip']))
    rid = rt['id']
    return {'host_if': names.gateway_host_if(rid), 'ns_if': names.gateway_ns_if(rid),
            'bridge': net['bridge'], 'mtu': net.get('mtu') or default_mtu,
            'cidr': str(cidr), 'gateway': addr.get('gateway_ip') or str(next(cidr.hosts())),
            'address': '%s/32' % addr['ip_address'] if hold_gateway else None,
            'snat': bool(hold_gateway and rt.get('enable_snat')), 'fips': fips}


def _snat_ports(rt):
    """(port, IPv4 address, cidr) of the router's centralized SNAT ports."""
    out = []
    for port in rt.get('snat_ports') or []:
        for f in port.get('fixed_ips') or []:
            if f.get('cidr') and _v4(f['ip_address']):
                cidr = str(ipaddress.ip_network(f['cidr'], strict=False))
                out.append((port, f['ip_address'], cidr))
    return sorted(out, key=lambda x: x[0]['port_id'])


def _table(cidr):
    """The routing table of a subnet's way to its SNAT port: the subnet's
    address as a number (a router's subnets never overlap), never one of
    the kernel's own (0, 253-255)."""
    n = int(ipaddress.ip_network(cidr).network_address)
    return n if n > 255 else n + (1 << 31)


def _centralized_snat(rt, legs, nets, ext, default_mtu, hold_gateway, host):
    """(snat_legs, snat_redirects) of the router on this host: on the host
    a SNAT port is bound to (it holds the gateway), a leg sg-<port> with
    the port's MAC and address (/32: replies go back through the qr- leg,
    whose neighbours are the guests) on the subnet's bridge; on a host that
    does not hold the gateway, for each subnet of a leg here whose SNAT
    port is on another host, a table with the default route to that port's
    address (and the port as a permanent neighbour of the leg)."""
    snat_legs, redirects = [], []
    if ext is None:
        return snat_legs, redirects
    by_cidr = {c: leg for leg in legs for c in leg['cidrs']}
    for port, ip, cidr in _snat_ports(rt):
        where = port.get('host')
        if hold_gateway and ext['snat'] and where and where == host:
            net = nets.get(port.get('network_id'))
            if net is None or cidr not in by_cidr:
                continue
            pid = port['port_id']
            snat_legs.append({'port_id': pid, 'host_if': names.snat_host_if(pid),
                              'ns_if': names.snat_ns_if(pid), 'bridge': net['bridge'],
                              'mtu': net.get('mtu') or default_mtu,
                              'mac': port['mac_address'].lower(), 'address': '%s/32' % ip,
                              'cidr': cidr})
        elif not hold_gateway and where and where != host and cidr in by_cidr:
            leg = by_cidr[cidr]
            redirects.append({'cidr': cidr, 'via': ip, 'dev': leg['ns_if'],
                              'table': _table(cidr)})
            pair = [ip, port['mac_address'].lower()]
            if pair not in leg['neighbours']:
                leg['neighbours'].append(pair)
                leg['neighbours'].sort(key=lambda x: ipaddress.ip_address(x[0]))
    redirects.sort(key=lambda r: ipaddress.ip_network(r['cidr']))
    return snat_legs, redirects


def spec(rt, nets, default_mtu, hold_gateway, host=None):
    """The spec of router ``rt`` (a 'routers' entry of the host state) on
    this host, or None (no IPv4 interface on a network this host carries).

    ``nets``: {network id: network of the state, with its 'bridge'};
    ``hold_gateway``: this host's external bridge holds the public gateway
    ([network] external_gateway), so this host's qg- leg holds the router's
    gateway address and SNATs its subnets; ``host``: this host's name (the
    router's centralized SNAT ports bound here get a leg)."""
    legs = []
    for itf in rt.get('interfaces') or []:
        net = nets.get(itf.get('network_id'))
        if net is None or net.get('external'):
            continue
        leg = _leg(itf, net, default_mtu)
        if leg is not None:
            legs.append(leg)
    if not legs:
        return None
    legs.sort(key=lambda leg: leg['port_id'])
    routes = [{'destination': str(ipaddress.ip_network(r['destination'], strict=False)),
               'nexthop': r['nexthop']} for r in rt.get('routes') or []
              if _v4(r['nexthop']) and _v4(r['destination'])]
    routes.sort(key=lambda r: (r['destination'], r['nexthop']))
    ext = _external(rt, nets, default_mtu, hold_gateway)
    snat_legs, redirects = _centralized_snat(rt, legs, nets, ext, default_mtu,
                                             hold_gateway, host)
    return {'router_id': rt['id'], 'netns': None,  # filled by the caller (common.netnames)
            'legs': legs, 'external': ext, 'routes': routes,
            'snat_legs': snat_legs, 'snat_redirects': redirects}


def host_links(sp):
    """The root-namespace devices of a router spec (also of the per-network
    specs the previous version wrote: {'tenant', 'external'})."""
    legs = list(sp.get('legs') or []) + ([sp['tenant']] if sp.get('tenant') else [])
    legs += sp.get('snat_legs') or []
    if sp.get('external'):
        legs.append(sp['external'])
    return legs


def _ensure_neighbours(run, ns, leg, old):
    """The guests of the leg's network as permanent neighbours: ARP about
    the router's addresses does not cross VXLAN, so a leg learns the MAC of
    a guest on another host from the records."""
    wanted = {ip: mac for ip, mac in leg.get('neighbours') or []}
    for ip, _mac in (old or {}).get('neighbours') or []:
        if ip not in wanted:
            run.ip('neigh', 'del', ip, 'dev', leg['ns_if'], netns=ns, check=False)
    for ip, mac in sorted(wanted.items()):
        run.ip('neigh', 'replace', ip, 'lladdr', mac, 'dev', leg['ns_if'], 'nud',
               'permanent', netns=ns)


def _ensure_routes(run, ns, sp, old):
    wanted = {(r['destination'], r['nexthop']) for r in sp['routes']}
    for r in (old or {}).get('routes') or []:
        if (r['destination'], r['nexthop']) not in wanted:
            run.ip('route', 'del', r['destination'], 'via', r['nexthop'], 'proto', 'static',
                   netns=ns, check=False)
    for dest, hop in sorted(wanted):
        run.ip('route', 'replace', dest, 'via', hop, 'proto', 'static', netns=ns)


# Priorities of the rules sending a subnet's traffic to its SNAT port; the
# kernel's main table (32766) comes after them.
PRIO_FLOATING, PRIO_LOCAL, PRIO_SNAT = 20000, 21000, 22000
_PRIOS = (PRIO_FLOATING, PRIO_LOCAL, PRIO_SNAT)


def snat_rules(sp):
    """The ``ip rule``s of the spec: {(priority, from, to, table)}. With a
    subnet redirected to its SNAT port: fixed addresses with a floating IP
    here and destinations the router reaches itself (its subnets here, its
    static routes) keep the main table; the rest of the subnet's traffic
    looks up the subnet's table."""
    redirects = sp.get('snat_redirects') or []
    if not redirects:
        return set()
    ext = sp.get('external') or {}
    rules = {(PRIO_FLOATING, '%s/32' % f['fixed'], 'all', 'main')
             for f in ext.get('fips') or []}
    rules |= {(PRIO_LOCAL, 'all', c, 'main') for leg in sp['legs'] for c in leg['cidrs']}
    rules |= {(PRIO_LOCAL, 'all', r['destination'], 'main') for r in sp.get('routes') or []}
    rules |= {(PRIO_SNAT, r['cidr'], 'all', str(r['table'])) for r in redirects}
    return rules


def _prefix(addr, length):
    if addr in (None, 'all'):
        return 'all'
    return str(ipaddress.ip_network('%s/%s' % (addr, 32 if length is None else length),
                                    strict=False))


def _rules_now(run, ns):
    return {(r['priority'], _prefix(r.get('src'), r.get('srclen')),
             _prefix(r.get('dst'), r.get('dstlen')), str(r.get('table')))
            for r in run.ip_json('rule', 'show', netns=ns) if r.get('priority') in _PRIOS}


def _ensure_snat_redirects(run, ns, sp, old):
    """The rules and tables that send traffic to the SNAT ports (new rules
    first, then the gone ones go)."""
    wanted = snat_rules(sp)
    for r in sp.get('snat_redirects') or []:
        run.ip('route', 'replace', 'default', 'via', r['via'], 'dev', r['dev'], 'table',
               str(r['table']), netns=ns)
    have = _rules_now(run, ns)
    for prio, src, dst, table in sorted(wanted - have):
        run.ip('rule', 'add', 'priority', str(prio), 'from', src, 'to', dst, 'lookup', table,
               netns=ns)
    for prio, src, dst, table in sorted(have - wanted):
        run.ip('rule', 'del', 'priority', str(prio), 'from', src, 'to', dst, 'lookup', table,
               netns=ns, check=False)
    tables = {r['table'] for r in sp.get('snat_redirects') or []}
    for r in (old or {}).get('snat_redirects') or []:
        if r['table'] not in tables:
            run.ip('route', 'flush', 'table', str(r['table']), netns=ns, check=False)


def _sysctls(run, ns, sp):
    """No ICMP redirects (a subnet's traffic to its SNAT port leaves by the
    leg it came in); with SNAT legs on a subnet's bridge next to its qr-
    leg: each answers ARP only for its own addresses, and traffic coming
    in on a SNAT leg is not held to the reverse path (it goes back by qr-)."""
    conf = 'net.ipv4.conf.%s.%s=%s'
    keys = [conf % (dev, 'send_redirects', 0) for dev in
            ['all', 'default'] + [leg['ns_if'] for leg in sp['legs']]]
    snat_legs = sp.get('snat_legs') or []
    if snat_legs:
        keys += [conf % ('all', 'rp_filter', 0), conf % ('default', 'rp_filter', 0),
                 conf % ('all', 'arp_ignore', 1), conf % ('all', 'arp_announce', 2)]
        keys += [conf % (leg['ns_if'], 'rp_filter', 0) for leg in snat_legs]
    run.run(['sysctl', '-q', '-w'] + keys, netns=ns)


def ensure(run, sp, old=None):
    """Make the router match ``sp``; ``old``: the spec applied before (legs
    and routes it had that ``sp`` no longer names go)."""
    ns = sp['netns']
    br.ensure_netns(run, ns)
    run.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], netns=ns)
    wanted = {leg['host_if'] for leg in sp['legs']}
    for leg in (old or {}).get('legs') or []:
        if leg['host_if'] not in wanted:
            br.delete_link(run, leg['host_if'])
    old_legs = {leg['host_if']: leg for leg in (old or {}).get('legs') or []}
    for leg in sp['legs']:
        br.ensure_veth(run, leg['host_if'], leg['bridge'], ns, leg['ns_if'], leg['mtu'],
                       mac=leg['mac'])
        br.ensure_addresses(run, leg['ns_if'], leg['addresses'], netns=ns)
        _ensure_neighbours(run, ns, leg, old_legs.get(leg['host_if']))
    wanted = {leg['host_if'] for leg in sp.get('snat_legs') or []}
    for leg in (old or {}).get('snat_legs') or []:
        if leg['host_if'] not in wanted:
            br.delete_link(run, leg['host_if'])
    for leg in sp.get('snat_legs') or []:
        br.ensure_veth(run, leg['host_if'], leg['bridge'], ns, leg['ns_if'], leg['mtu'],
                       mac=leg['mac'])
        br.ensure_addresses(run, leg['ns_if'], [leg['address']], netns=ns)
    _sysctls(run, ns, sp)
    ext = sp.get('external')
    if ext:
        br.ensure_veth(run, ext['host_if'], ext['bridge'], ns, ext['ns_if'], ext['mtu'])
        held = ['%s/32' % f['fip'] for f in ext['fips']]
        if ext.get('address'):
            held.append(ext['address'])
        added, removed = br.ensure_addresses(run, ext['ns_if'], held, netns=ns)
        run.ip('route', 'replace', ext['cidr'], 'dev', ext['ns_if'], 'scope', 'link',
               netns=ns)
        run.ip('route', 'replace', 'default', 'via', ext['gateway'], 'dev', ext['ns_if'],
               'onlink', netns=ns)
        # The host may remember a floating IP's old MAC (another router had it).
        for cidr in added + removed:
            run.ip('neigh', 'flush', 'dev', ext['bridge'], 'to', cidr.split('/')[0],
                   check=False)
    else:
        br.delete_link(run, names.gateway_host_if(sp['router_id']))
    _ensure_routes(run, ns, sp, old)
    _ensure_snat_redirects(run, ns, sp, old)
    run.nft(nft_ruleset(sp), netns=ns)


def remove(run, sp):
    for leg in host_links(sp):
        br.delete_link(run, leg['host_if'])
    ext = sp.get('external')
    for f in (ext or {}).get('fips') or []:
        # The host forgets the MAC of the leg that held the floating IP.
        run.ip('neigh', 'flush', 'dev', ext['bridge'], 'to', f['fip'], check=False)
    br.delete_netns(run, sp['netns'])
