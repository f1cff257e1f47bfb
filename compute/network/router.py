"""The router of a tenant network on this host: namespace qrouter-<net id>.

* a leg qr-<net> into the tenant bridge holding the subnet gateway
  address(es), with the same MAC on every host;
* when the state has an external network, a leg qg-<net> into the external
  network's bridge, holding the floating IPs of the network's ports as /32,
  a route to the external subnet on it and the default route via the
  external subnet's gateway (onlink);
* ip_forward=1 inside the namespace only;
* nft ``table ip altostack_router``: per floating IP, DNAT fip -> fixed in
  prerouting and SNAT fixed -> fip in postrouting (and hairpin: a guest
  reaching a floating IP of its own network gets the reply through the
  router); forward policy drop, except DNATed traffic in, replies, and
  traffic from fixed addresses that have a floating IP out. A port without
  a floating IP cannot leave its network, and nothing is routed between
  two tenant networks (each namespace has one tenant leg; floating IPs are
  the only way in).
"""

import ipaddress

from oslo_log import log as logging

from compute.network import bridge as br
from compute.network import names

LOG = logging.getLogger(__name__)


def _v4(cidr):
    return ipaddress.ip_network(cidr, strict=False).version == 4


def nft_ruleset(sp):
    """The namespace's nft script (replaces its table in one transaction)."""
    qr = sp['tenant']['ns_if']
    ext = sp.get('external')
    fips = ext['fips'] if ext else []
    t = names.ROUTER_TABLE
    pre, post = [], []
    for f in fips:
        pre.append('ip daddr %s dnat to %s' % (f['fip'], f['fixed']))
        post.append('oifname "%s" ip saddr %s snat to %s' % (ext['ns_if'], f['fixed'],
                                                              f['fip']))
    for cidr in sp['tenant']['cidrs']:
        # Hairpin: a guest reaching a floating IP of its own network.
        post.append('oifname "%s" ct status dnat ip saddr %s masquerade' % (qr, cidr))
    fwd = ['ct state established,related accept', 'ct state invalid drop',
           'ct status dnat accept']
    if fips:
        fwd.append('iifname "%s" oifname "%s" ip saddr { %s } accept' % (
            qr, ext['ns_if'], ', '.join(sorted({f['fixed'] for f in fips},
                                               key=ipaddress.ip_address))))
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


def spec(network, ports, external, default_mtu):
    """The router of ``network`` or None (no IPv4 subnet with a gateway).

    ``external``: {'bridge', 'mtu', 'cidr', 'gateway'} of the external
    network, or None."""
    addresses, cidrs = [], []
    for sub in network.get('subnets') or []:
        if sub.get('gateway_ip') and _v4(sub['cidr']):
            prefix = ipaddress.ip_network(sub['cidr'], strict=False)
            addresses.append('%s/%d' % (sub['gateway_ip'], prefix.prefixlen))
            cidrs.append(str(prefix))
    if not addresses:
        return None
    nid = network['id']
    sp = {
        'network_id': nid,
        'netns': None,  # filled by the caller (common.netnames)
        'tenant': {'host_if': names.router_host_if(nid), 'ns_if': names.router_ns_if(nid),
                   'bridge': network['bridge'], 'mtu': network.get('mtu') or default_mtu,
                   'mac': names.gateway_mac(nid), 'addresses': addresses, 'cidrs': cidrs},
        'external': None,
    }
    if external:
        fips = []
        for port in ports:
            v4 = [f['ip_address'] for f in port.get('fixed_ips') or []
                  if ipaddress.ip_address(f['ip_address']).version == 4]
            for f in port.get('floating_ips') or []:
                fixed = f.get('fixed_ip_address') or (v4[0] if v4 else None)
                if fixed and f.get('floating_ip_address'):
                    fips.append({'fip': f['floating_ip_address'], 'fixed': fixed})
        fips.sort(key=lambda f: ipaddress.ip_address(f['fip']))
        sp['external'] = {'host_if': names.gateway_host_if(nid),
                          'ns_if': names.gateway_ns_if(nid),
                          'bridge': external['bridge'], 'mtu': external['mtu'],
                          'cidr': external['cidr'], 'gateway': external['gateway'],
                          'fips': fips}
    return sp


def ensure(run, sp):
    ns = sp['netns']
    ten = sp['tenant']
    br.ensure_netns(run, ns)
    run.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], netns=ns)
    br.ensure_veth(run, ten['host_if'], ten['bridge'], ns, ten['ns_if'], ten['mtu'],
                   mac=ten['mac'])
    br.ensure_addresses(run, ten['ns_if'], ten['addresses'], netns=ns)
    ext = sp.get('external')
    if ext:
        br.ensure_veth(run, ext['host_if'], ext['bridge'], ns, ext['ns_if'], ext['mtu'])
        added, removed = br.ensure_addresses(
            run, ext['ns_if'], ['%s/32' % f['fip'] for f in ext['fips']], netns=ns)
        run.ip('route', 'replace', ext['cidr'], 'dev', ext['ns_if'], 'scope', 'link',
               netns=ns)
        run.ip('route', 'replace', 'default', 'via', ext['gateway'], 'dev', ext['ns_if'],
               'onlink', netns=ns)
        # The host may remember a floating IP's old MAC (another router had it).
        for cidr in added + removed:
            run.ip('neigh', 'flush', 'dev', ext['bridge'], 'to', cidr.split('/')[0],
                   check=False)
    else:
        br.delete_link(run, names.gateway_host_if(sp['network_id']))
    run.nft(nft_ruleset(sp), netns=ns)


def remove(run, sp):
    br.delete_link(run, sp['tenant']['host_if'])
    if sp.get('external'):
        br.delete_link(run, sp['external']['host_if'])
    br.delete_netns(run, sp['netns'])
