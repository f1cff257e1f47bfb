"""Security groups and anti-spoofing of the ports on this host, as two nft
tables of this agent in the root namespace, rebuilt together in one
``nft -f`` transaction whenever they change.

``table bridge altostack_<host>``
  * chain ``port_marks`` (hook forward, priority -200): a frame from port N
    gets N in the low 16 bits of its mark, a frame to port N gets N << 16
    in the high 16 bits (N: the port's index on this host, 1..65535).
  * chain ``spoof_check`` (hook prerouting, priority -200) jumps to
    ``spoof_N`` for frames from port N: only its MAC; ARP only for its MAC
    and fixed IPv4 addresses; IPv4 only from its fixed addresses (or
    0.0.0.0 -> 255.255.255.255 udp 68 -> 67, DHCP); no DHCP or DHCPv6
    server replies and no IPv6 router advertisements from a guest; IPv6
    only from its fixed IPv6 addresses, link-local or ::; nothing else.
  * VXLAN devices (compute/network/vxlan.py): every host has its own
    router legs (same addresses and MACs) and its own dnsmasq, so
    chains ``vxlan_in`` (prerouting, -200; before the bridge learns the
    source MAC) and ``vxlan_out`` (postrouting, -200) jump to ``vxlan_K``
    for frames from / to the device of a network: frames from or to the
    router legs' MACs, ARP about their addresses and the subnet gateways,
    DHCP (udp 67/68)
    and DHCPv6 (udp 546/547) are dropped. A frame from a device starts
    with mark 0 (it comes from no local port: only the ingress rules of
    the port it goes to apply); a frame to one leaves with mark 0 (the port
    marks do not follow the encapsulated packet).

``table inet altostack_<host>`` (bridged traffic reaches it through each
bridge's nf_call_iptables / nf_call_ip6tables; conntrack is stateful)
  * chain ``zones`` (prerouting, -300): each tenant bridge its own
    conntrack zone, so overlapping tenant addresses do not mix.
  * chain ``sg`` (forward, 0): for frames on this agent's bridges, the
    port a frame comes from (low bits) -> ``egress_N``, which returns when
    the frame may leave the port, else drops; then the port it goes to
    (high bits) -> ``ingress_N``, which accepts or drops.
  * egress_N: established/related, DHCP requests, ICMPv6 neighbour
    discovery, the port's egress rules (``ip daddr``), then drop.
  * ingress_N: established/related, DHCP replies, ICMPv6 neighbour
    discovery, the port's ingress rules (``ip saddr``), then drop.

Ports with port_security_enabled False get no index: no rules at all.
Ports that are not in this agent's state are not touched.
"""

import ipaddress

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

MAX_INDEX = 0xffff

# Protocol numbers whose rules may name ports (transport header ports).
_PORT_PROTOCOLS = {6, 17, 33, 132, 136}
_NAMES = {'icmp': 1, 'tcp': 6, 'udp': 17, 'dccp': 33, 'sctp': 132, 'udplite': 136,
          'ipv6-icmp': 58, 'icmpv6': 58, 'gre': 47, 'esp': 50, 'ah': 51, 'vrrp': 112,
          'igmp': 2, 'ipip': 4, 'ospf': 89, 'pgm': 113, 'rsvp': 46, 'egp': 8}

ND_TYPES_OUT = 'nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert'
ND_TYPES_IN = 'nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert'


def _q(name):
    return '"%s"' % name


def _proto_number(protocol):
    if protocol is None:
        return None
    text = str(protocol).strip().lower()
    if text in ('', 'any'):
        return None
    if text.isdigit():
        return int(text)
    return _NAMES.get(text, -1)


def _ports(lo, hi):
    if lo is None and hi is None:
        return None
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    if int(lo) == 1 and int(hi) == 65535:
        return None
    return '%d' % lo if lo == hi else '%d-%d' % (lo, hi)


def rule_match(rule, direction):
    """The nft match of one security group rule (ingress: the remote is the
    source, egress: the destination), or None when the rule can match
    nothing (an empty remote group, a prefix of the other IP version, an
    unknown protocol)."""
    v6 = rule.get('ethertype') == 'IPv6'
    fam = 'ip6' if v6 else 'ip'
    parts = ['meta nfproto %s' % ('ipv6' if v6 else 'ipv4')]
    addr = '%s %s' % (fam, 'saddr' if direction == 'ingress' else 'daddr')
    prefix = rule.get('remote_ip_prefix')
    if prefix:
        net = ipaddress.ip_network(prefix, strict=False)
        if net.version != (6 if v6 else 4):
            return None
        if net.prefixlen:
            parts.append('%s %s' % (addr, net))
    remote_ips = rule.get('remote_ips')
    if remote_ips is not None:
        ips = sorted({ip for ip in remote_ips
                      if ipaddress.ip_address(ip).version == (6 if v6 else 4)},
                     key=lambda ip: ipaddress.ip_address(ip))
        if not ips:
            return None
        parts.append('%s { %s }' % (addr, ', '.join(ips)))
    num = _proto_number(rule.get('protocol'))
    lo, hi = rule.get('port_range_min'), rule.get('port_range_max')
    if num == -1:
        LOG.warning('Security group rule with unknown protocol %r skipped', rule.get('protocol'))
        return None
    if num in (1, 58):
        if v6 or num == 58:
            if not v6:
                return None
            parts.append('meta l4proto ipv6-icmp')
            kw = 'icmpv6'
        else:
            parts.append('meta l4proto icmp')
            kw = 'icmp'
        if lo is not None:
            parts.append('%s type %d' % (kw, lo))
            if hi is not None:
                parts.append('%s code %d' % (kw, hi))
    elif num is not None:
        parts.append('meta l4proto %d' % num)
        ports = _ports(lo, hi) if num in _PORT_PROTOCOLS else None
        if ports:
            parts.append('th dport %s' % ports)
    return ' '.join(parts)


def _addresses(port):
    v4, v6 = [], []
    for fip in port.get('fixed_ips') or []:
        ip = ipaddress.ip_address(fip['ip_address'])
        (v6 if ip.version == 6 else v4).append(str(ip))
    return sorted(set(v4), key=ipaddress.ip_address), sorted(set(v6), key=ipaddress.ip_address)


def _spoof_chain(idx, port):
    mac = port['mac_address'].lower()
    v4, v6 = _addresses(port)
    lines = ['ether saddr != %s drop' % mac,
             'ether type arp arp saddr ether != %s drop' % mac,
             'ether type arp arp saddr ip != { %s } drop' % ', '.join(['0.0.0.0'] + v4),
             'ether type arp return',
             'ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return',
             'ether type ip udp sport 67 drop']
    if v4:
        lines += ['ether type ip ip saddr != { %s } drop' % ', '.join(v4),
                  'ether type ip return']
    lines += ['ether type ip6 icmpv6 type nd-router-advert drop',
              'ether type ip6 udp sport 547 drop',
              'ether type ip6 ip6 saddr != { %s } drop' % ', '.join(['::', 'fe80::/10'] + v6),
              'ether type ip6 return',
              'drop']
    return 'spoof_%d' % idx, lines


def _egress_chain(idx, port):
    lines = ['ct state established,related return',
             'ct state invalid drop',
             'meta nfproto ipv4 udp sport 68 udp dport 67 return',
             'meta nfproto ipv6 udp sport 546 udp dport 547 return',
             'meta nfproto ipv6 icmpv6 type { %s } return' % ND_TYPES_OUT]
    seen = set()
    for rule in port.get('rules') or []:
        if rule.get('direction') != 'egress':
            continue
        m = rule_match(rule, 'egress')
        if m is not None and m not in seen:
            seen.add(m)
            lines.append('%s return' % m)
    lines.append('drop')
    return 'egress_%d' % idx, lines


def _ingress_chain(idx, port):
    lines = ['ct state established,related accept',
             'ct state invalid drop',
             'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
             'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
             'meta nfproto ipv6 icmpv6 type { %s } accept' % ND_TYPES_IN]
    seen = set()
    for rule in port.get('rules') or []:
        if rule.get('direction') != 'ingress':
            continue
        m = rule_match(rule, 'ingress')
        if m is not None and m not in seen:
            seen.add(m)
            lines.append('%s accept' % m)
    lines.append('drop')
    return 'ingress_%d' % idx, lines


def _chain(name, lines, hook=None):
    out = ['  chain %s {' % name]
    if hook:
        out.append('    %s' % hook)
    out += ['    %s' % line for line in lines]
    out.append('  }')
    return out


def _replace(family, table, body):
    """Create-if-missing, delete, define: one transaction that replaces
    the table whether or not it existed."""
    return ['table %s %s {' % (family, table), '}',
            'delete table %s %s' % (family, table),
            'table %s %s {' % (family, table)] + body + ['}']


def _segment_chain(k, seg):
    macs = sorted({m.lower() for m in seg.get('router_macs') or []})
    lines = []
    if macs:
        lines += ['ether saddr { %s } drop' % ', '.join(macs),
                  'ether daddr { %s } drop' % ', '.join(macs)]
    gws = sorted(set(seg.get('gateway_ips') or []), key=ipaddress.ip_address)
    if gws:
        lines += ['ether type arp arp saddr ip { %s } drop' % ', '.join(gws),
                  'ether type arp arp daddr ip { %s } drop' % ', '.join(gws)]
    lines += ['ether type ip udp dport { 67, 68 } drop',
              'ether type ip6 udp dport { 546, 547 } drop']
    return 'vxlan_%d' % k, lines


def ruleset(table, ports, port_index, bridges, zones, segments=(), host_mac=None):
    """The nft script (text) that replaces this agent's two tables.

    ``ports``: the secured ports (dicts of the host state), ``port_index``:
    devname -> index, ``bridges``: every bridge this agent makes, ``zones``:
    tenant bridge -> conntrack zone, ``host_mac``: the source MAC routed
    frames from a router leg get when they leave through a VXLAN device,
    ``segments``: the VXLAN devices
    ({'dev', 'router_macs', 'gateway_ips'}: the MACs of the router legs on
    the network and their addresses and the subnets' gateways) of the
    tenant networks.
    """
    secured = sorted(((port_index[p['devname']], p) for p in ports),
                     key=lambda item: item[0])
    body = []
    marks = []
    for idx, port in secured:
        marks.append('iifname %s meta mark set meta mark and 0xffff0000 or 0x%x'
                     % (_q(port['devname']), idx))
    for idx, port in secured:
        marks.append('oifname %s meta mark set meta mark and 0x0000ffff or 0x%x'
                     % (_q(port['devname']), idx << 16))
    body += _chain('port_marks', marks,
                   'type filter hook forward priority -200; policy accept;')
    spoof = []
    if secured:
        spoof.append('iifname vmap { %s }' % ', '.join(
            '%s : jump spoof_%d' % (_q(p['devname']), idx) for idx, p in secured))
    body += _chain('spoof_check', spoof,
                   'type filter hook prerouting priority -200; policy accept;')
    for idx, port in secured:
        name, lines = _spoof_chain(idx, port)
        body += _chain(name, lines)
    segments = sorted(segments, key=lambda seg: seg['dev'])
    vx_in, vx_out = [], []
    if segments:
        devs = ', '.join(_q(seg['dev']) for seg in segments)
        jumps = ', '.join('%s : jump vxlan_%d' % (_q(seg['dev']), k)
                          for k, seg in enumerate(segments, 1))
        vx_in = ['iifname { %s } meta mark set 0x0' % devs, 'iifname vmap { %s }' % jumps]
        vx_out = []
        macs = sorted({m.lower() for seg in segments for m in seg.get('router_macs') or []})
        if macs and host_mac:
            # Routed IPv4 from a router leg leaves with this host's MAC (ARP
            # from the legs is dropped in vxlan_K, which still sees their MAC).
            vx_out.append('oifname { %s } ether saddr { %s } ether type ip ether saddr set %s'
                          % (devs, ', '.join(macs), host_mac))
        vx_out += ['oifname vmap { %s }' % jumps, 'oifname { %s } meta mark set 0x0' % devs]
    body += _chain('vxlan_in', vx_in,
                   'type filter hook prerouting priority -200; policy accept;')
    body += _chain('vxlan_out', vx_out,
                   'type filter hook postrouting priority -200; policy accept;')
    for k, seg in enumerate(segments, 1):
        name, lines = _segment_chain(k, seg)
        body += _chain(name, lines)
    out = _replace('bridge', table, body)

    body = []
    zone_lines = []
    if zones:
        zone_lines.append('ct zone set iifname map { %s }' % ', '.join(
            '%s : %d' % (_q(b), z) for b, z in sorted(zones.items())))
    body += _chain('zones', zone_lines,
                   'type filter hook prerouting priority -300; policy accept;')
    sg = []
    if bridges and secured:
        sg.append('iifname != { %s } return' % ', '.join(_q(b) for b in sorted(bridges)))
        sg.append('meta mark and 0x0000ffff vmap { %s }' % ', '.join(
            '0x%x : jump egress_%d' % (idx, idx) for idx, _p in secured))
        sg.append('meta mark and 0xffff0000 vmap { %s }' % ', '.join(
            '0x%x : jump ingress_%d' % (idx << 16, idx) for idx, _p in secured))
    body += _chain('sg', sg, 'type filter hook forward priority 0; policy accept;')
    for idx, port in secured:
        for name, lines in (_egress_chain(idx, port), _ingress_chain(idx, port)):
            body += _chain(name, lines)
    out += _replace('inet', table, body)
    return '\n'.join(out) + '\n'


def removal(table):
    """The nft script that removes this agent's tables (absent is fine)."""
    out = []
    for family in ('bridge', 'inet'):
        out += ['table %s %s {' % (family, table), '}', 'delete table %s %s' % (family, table)]
    return '\n'.join(out) + '\n'


def assign_indexes(devnames, current):
    """Stable port indexes: keep the ones ``current`` (devname -> index)
    gives, number new ports with the lowest free indexes, forget the gone."""
    keep = {d: i for d, i in current.items() if d in devnames}
    used = set(keep.values())
    free = (i for i in range(1, MAX_INDEX + 1) if i not in used)
    for d in sorted(devnames):
        if d not in keep:
            try:
                keep[d] = next(free)
            except StopIteration:
                raise ValueError('more than %d secured ports on one host' % MAX_INDEX) \
                    from None
    return keep
