"""What one compute host's data plane must hold (docs/network.md "Host
state"), read in a fixed handful of queries whatever the number of ports,
and which hosts a change concerns (for refresh_network casts).
"""

import ipaddress

import sqlalchemy as sa
from sqlalchemy import orm

from common import netnames
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import network_models as nm
from network import networks
from network import portcore
from network import secgroups

P, PSG, R = nm.Port, nm.PortSecurityGroup, nm.SecurityGroupRule
# Router legs (network/routers.py owns the rules; common/ may not import it).
ROUTER_INTERFACE = 'network:router_interface'
ROUTER_GATEWAY = 'network:router_gateway'
ROUTER_SNAT = 'network:router_centralized_snat'   # network/snat.py


def _dns(subnet):
    return list(subnet.dns_nameservers or []) or list(CONF.network.dns_nameservers)


def _fixed(ips):
    return [{'subnet_id': sub, 'ip_address': ip} for sub, ip in ips]


def _ip_key(ip):
    addr = ipaddress.ip_address(ip)
    return (addr.version, addr)


def _version(ip):
    return 6 if ':' in ip else 4


def _rule(rule, members):
    remote_ips = None
    if rule.remote_group_id:
        want = 6 if rule.ethertype == 'IPv6' else 4
        remote_ips = sorted((ip for ip in members.get(rule.remote_group_id, ())
                             if _version(ip) == want),
                            key=lambda ip: tuple(int(x) for x in ip.split('.'))
                            if want == 4 else (ip,))
    return {'direction': rule.direction, 'ethertype': rule.ethertype,
            'protocol': secgroups.agent_protocol(rule.protocol),
            'port_range_min': rule.port_range_min, 'port_range_max': rule.port_range_max,
            'remote_ip_prefix': secgroups.normalized_cidr(rule.remote_ip_prefix),
            'remote_ips': remote_ips}


def _segment_port():
    """Ports that put their host on a network's VXLAN segment: server,
    DHCP and centralized SNAT ports bound to a host."""
    return sa.and_(P.host.is_not(None), P.host != '', sa.or_(
        P.device_owner.startswith(portcore.COMPUTE_PREFIX),
        P.device_owner.in_([networks.DHCP_OWNER, ROUTER_SNAT])))


def _vxlan(net, local_ip, on_net):
    """The network's VXLAN segment as this host sees it, or None (external
    network, no segmentation id, this host's address unknown). Peers: the
    addresses of the other hosts on the network, of this host's IP version,
    without this host's own address (agents sharing one address share a
    kernel: no tunnel between them)."""
    if net.external or net.segmentation_id is None or not local_ip:
        return None
    try:
        local = ipaddress.ip_address(local_ip)
    except ValueError:
        return None
    peers = set()
    for ip in on_net.get(net.id, ()):
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        if addr.version == local.version and addr != local:
            peers.add(addr)
    return {'vni': net.segmentation_id, 'local_ip': str(local),
            'peers': [str(a) for a in sorted(peers)]}


def host_state(host):
    """Everything ``host``'s bridges, VXLAN segments, DHCP, firewall and NAT
    must hold: the networks with a server port bound here (and the external
    network), each with its subnets, this host's DHCP port and its VXLAN
    peers (the other hosts with a server or DHCP port on it); the server
    ports bound here with their rules (remote groups expanded to addresses)
    and floating IPs."""
    with db_api.reader() as s:
        # (The SNAT host runs the routers whose SNAT ports are bound here.)
        bound = list(s.scalars(sa.select(P).where(P.host == host, sa.or_(
            P.device_owner.startswith(portcore.COMPUTE_PREFIX),
            P.device_owner == ROUTER_SNAT)).order_by(P.created_at, P.id)))
        ports = [p for p in bound if p.device_owner != ROUTER_SNAT]
        port_ids = [p.id for p in ports]
        net_ids = {p.network_id for p in bound}
        rows = _router_rows(s, net_ids)
        # The router's other networks too: its legs there reach their guests.
        net_ids |= {p.network_id for p in rows[1] if p.device_owner == ROUTER_INTERFACE}
        nets = list(s.scalars(sa.select(nm.Network).where(sa.or_(
            nm.Network.id.in_(net_ids), nm.Network.external.is_(True))).order_by(
            nm.Network.created_at, nm.Network.id)))
        net_ids = [n.id for n in nets]
        subnets = list(s.scalars(sa.select(nm.Subnet).where(
            nm.Subnet.network_id.in_(net_ids)).order_by(nm.Subnet.created_at, nm.Subnet.id)))
        dhcp = {p.network_id: p for p in s.scalars(sa.select(P).where(
            P.host == host, P.device_owner == networks.DHCP_OWNER,
            P.network_id.in_(net_ids)))}
        ips = portcore.ips_of(s, port_ids + [p.id for p in dhcp.values()])
        groups = portcore.groups_of(s, port_ids)
        group_ids = {g for gids in groups.values() for g in gids}
        rules = {}
        if group_ids:
            for r in s.scalars(sa.select(R).where(R.security_group_id.in_(group_ids))
                               .order_by(R.created_at, R.id)):
                rules.setdefault(r.security_group_id, []).append(r)
        remote = {r.remote_group_id for rs in rules.values() for r in rs if r.remote_group_id}
        members = {}
        if remote:
            for gid, ip in s.execute(sa.select(PSG.security_group_id,
                                               nm.IPAllocation.ip_address).join(
                    nm.IPAllocation, nm.IPAllocation.port_id == PSG.port_id).where(
                    PSG.security_group_id.in_(remote))):
                members.setdefault(gid, set()).add(ip)
        fips = {}
        if port_ids:
            for f in s.scalars(sa.select(nm.FloatingIP).where(
                    nm.FloatingIP.port_id.in_(port_ids)).order_by(
                    nm.FloatingIP.floating_ip_address)):
                fips.setdefault(f.port_id, []).append(
                    {'id': f.id, 'floating_ip_address': f.floating_ip_address,
                     'fixed_ip_address': f.fixed_ip_address,
                     'floating_network_id': f.floating_network_id})
        # VXLAN: the address of every host (this one included: each tenant
        # network here has a server port of this host, or a router of one)
        # on each tenant network: its server and DHCP ports' hosts, and the
        # hosts running a router with an interface on it.
        local_ip, on_net = None, {}
        tenant_ids = [n.id for n in nets if not n.external and n.segmentation_id is not None]
        if tenant_ids:
            itf, other, guest = orm.aliased(P), orm.aliased(P), orm.aliased(P)
            by_router = sa.select(itf.network_id, cm.ComputeNode.host,
                                  cm.ComputeNode.host_ip).join(
                other, sa.and_(other.device_id == itf.device_id,
                               other.device_owner == ROUTER_INTERFACE)).join(
                guest, sa.and_(guest.network_id == other.network_id,
                               guest.device_owner.startswith(portcore.COMPUTE_PREFIX))).join(
                cm.ComputeNode, cm.ComputeNode.host == guest.host).where(
                itf.device_owner == ROUTER_INTERFACE, itf.network_id.in_(tenant_ids))
            for net_id, peer, ip in s.execute(sa.union(sa.select(
                    P.network_id, cm.ComputeNode.host, cm.ComputeNode.host_ip).join(
                    cm.ComputeNode, cm.ComputeNode.host == P.host).where(
                    P.network_id.in_(tenant_ids), _segment_port()), by_router)):
                if not ip:
                    continue
                if peer == host:
                    local_ip = ip
                else:
                    on_net.setdefault(net_id, set()).add(ip)
        routers = _routers(rows, port_ids, ips, fips)
    by_net = {}
    for sub in subnets:
        by_net.setdefault(sub.network_id, []).append(
            {'id': sub.id, 'cidr': sub.cidr, 'gateway_ip': sub.gateway_ip,
             'enable_dhcp': sub.enable_dhcp, 'dns_nameservers': _dns(sub),
             'host_routes': [{'destination': r['destination'], 'nexthop': r['nexthop']}
                             for r in sub.host_routes or []]})
    out_nets = []
    for net in nets:
        d = dhcp.get(net.id)
        out_nets.append({
            'id': net.id, 'name': net.name, 'bridge': netnames.bridge(net.id),
            'mtu': net.mtu, 'external': net.external, 'segmentation_id': net.segmentation_id,
            'vxlan': _vxlan(net, local_ip, on_net),
            'subnets': by_net.get(net.id, []),
            'dhcp_port': {'id': d.id, 'mac_address': d.mac_address,
                          'fixed_ips': _fixed(ips[d.id])} if d is not None else None})
    out_ports = []
    for port in ports:
        port_rules = []
        if port.port_security_enabled:
            for gid in groups[port.id]:
                for r in rules.get(gid, []):
                    entry = _rule(r, members)
                    if entry not in port_rules:
                        port_rules.append(entry)
        out_ports.append({
            'id': port.id, 'network_id': port.network_id, 'mac_address': port.mac_address,
            'devname': netnames.tap(port.id), 'device_id': port.device_id,
            'hostname': port.dns_name or '', 'fixed_ips': _fixed(ips[port.id]),
            'port_security_enabled': port.port_security_enabled, 'rules': port_rules,
            'floating_ips': [{k: f[k] for k in ('id', 'floating_ip_address',
                                                'fixed_ip_address')}
                             for f in fips.get(port.id, [])]})
    return {'host': host, 'networks': out_nets, 'ports': out_ports, 'routers': routers}


def _router_rows(s, guest_nets):
    """(routers, their legs, {port id: addresses}, {network id: [(mac, ip)]})
    of the routers with an interface on a network where this host has a
    server port, in four queries; the last: the server ports (any host) on
    the routers' interface networks, the neighbours of their legs."""
    if not guest_nets:
        return [], [], {}, {}
    with_itf = sa.select(P.device_id).where(P.device_owner == ROUTER_INTERFACE,
                                            P.network_id.in_(guest_nets))
    routers = list(s.scalars(sa.select(nm.Router).where(nm.Router.id.in_(with_itf)).order_by(
        nm.Router.created_at, nm.Router.id)))
    if not routers:
        return [], [], {}, {}
    ids = [r.id for r in routers]
    legs = list(s.scalars(sa.select(P).where(sa.or_(
        sa.and_(P.device_owner.in_([ROUTER_INTERFACE, ROUTER_SNAT]), P.device_id.in_(ids)),
        P.id.in_([r.gw_port_id for r in routers if r.gw_port_id]))).order_by(
        P.created_at, P.id)))
    rows = s.execute(sa.select(nm.IPAllocation.port_id, nm.IPAllocation.ip_address,
                               nm.Subnet).join(
        nm.Subnet, nm.Subnet.id == nm.IPAllocation.subnet_id).where(
        nm.IPAllocation.port_id.in_([p.id for p in legs])))
    addrs = {}
    for port_id, ip, sub in rows:
        addrs.setdefault(port_id, []).append(
            {'subnet_id': sub.id, 'ip_address': ip, 'cidr': sub.cidr,
             'gateway_ip': sub.gateway_ip})
    for v in addrs.values():
        v.sort(key=lambda a: _ip_key(a['ip_address']))
    itf_nets = {p.network_id for p in legs if p.device_owner == ROUTER_INTERFACE}
    neighbours = {}
    for net_id, mac, ip in s.execute(sa.select(
            P.network_id, P.mac_address, nm.IPAllocation.ip_address).join(
            nm.IPAllocation, nm.IPAllocation.port_id == P.id).where(
            P.network_id.in_(itf_nets), P.device_owner.startswith(portcore.COMPUTE_PREFIX))):
        neighbours.setdefault(net_id, []).append((mac, ip))
    return routers, legs, addrs, neighbours


def _routers(rows, port_ids, fixed, fips):
    """The routers with an interface on a network where this host has a
    server port: each with its interfaces (MAC, addresses and their subnets'
    cidrs, and the server ports on its network: 'neighbours', [{'ip_address',
    'mac_address'}]), its gateway (address, external subnet and its
    gateway), enable_snat, routes, and the floating IPs of this host's ports
    it carries (fixed address in one of its interface subnets, floating IP
    on its gateway's network; the oldest router first, as the API's
    router_id)."""
    routers, legs, addrs, neighbours = rows
    by_id = {p.id: p for p in legs}
    # This host's fixed addresses: (port id, ip) -> subnet id.
    fixed_subnet = {(port_id, ip): sub for port_id in port_ids
                    for sub, ip in fixed.get(port_id, ())}
    out, taken = [], set()
    for r in routers:
        itfs = [p for p in legs if p.device_id == r.id and p.device_owner == ROUTER_INTERFACE]
        gw = by_id.get(r.gw_port_id) if r.gw_port_id else None
        itf_subnets = {a['subnet_id'] for p in itfs for a in addrs.get(p.id, [])}
        carried = []
        if gw is not None:
            for port_id, entries in fips.items():
                for f in entries:
                    sub = fixed_subnet.get((port_id, f['fixed_ip_address']))
                    if f['id'] in taken or sub not in itf_subnets or \
                            f['floating_network_id'] != gw.network_id:
                        continue
                    taken.add(f['id'])
                    carried.append({'id': f['id'], 'port_id': port_id,
                                    'floating_ip_address': f['floating_ip_address'],
                                    'fixed_ip_address': f['fixed_ip_address']})
        carried.sort(key=lambda f: _ip_key(f['floating_ip_address']))
        out.append({
            'id': r.id, 'enable_snat': bool(r.enable_snat),
            'routes': [{'destination': x['destination'], 'nexthop': x['nexthop']}
                       for x in r.routes or []],
            'interfaces': [{'port_id': p.id, 'network_id': p.network_id,
                            'mac_address': p.mac_address,
                            'fixed_ips': [{k: a[k] for k in ('subnet_id', 'ip_address', 'cidr')}
                                          for a in addrs.get(p.id, [])],
                            'neighbours': [{'ip_address': ip, 'mac_address': mac}
                                           for mac, ip in sorted(
                                               neighbours.get(p.network_id, []),
                                               key=lambda x: _ip_key(x[1]))]}
                           for p in itfs],
            'gateway': None if gw is None else {
                'port_id': gw.id, 'network_id': gw.network_id,
                'fixed_ips': addrs.get(gw.id, [])},
            'snat_ports': [{'port_id': p.id, 'network_id': p.network_id,
                            'mac_address': p.mac_address, 'host': p.host,
                            'fixed_ips': [{k: a[k] for k in ('subnet_id', 'ip_address',
                                                             'cidr')}
                                          for a in addrs.get(p.id, [])]}
                           for p in legs if p.device_id == r.id
                           and p.device_owner == ROUTER_SNAT],
            'floating_ips': carried})
    return out


# --- who must hear of a change -----------------------------------------------

def _hosts(q):
    with db_api.reader() as s:
        return {h for h in s.scalars(q) if h}


def hosts_for_ports(port_ids):
    """Hosts the given ports are bound to."""
    ids = [p for p in port_ids if p]
    if not ids:
        return set()
    return _hosts(sa.select(P.host).where(P.id.in_(ids)).distinct())


def hosts_for_security_group(group_id):
    """Hosts with ports in the group, or in groups whose rules name it as
    remote group (they hold its members' addresses)."""
    referencing = sa.select(R.security_group_id).where(R.remote_group_id == group_id)
    members = sa.select(PSG.port_id).where(sa.or_(PSG.security_group_id == group_id,
                                                  PSG.security_group_id.in_(referencing)))
    return _hosts(sa.select(P.host).where(P.id.in_(members)).distinct())


def hosts_for_port_change(port_ids):
    """Hosts concerned when the given ports change (appear, go, move,
    change address or groups): their own hosts, hosts of ports whose rules
    take these ports' groups as remote group, and the hosts sharing their
    networks (VXLAN peers). Call it after a binding and before an unbinding
    or a delete, so the moving host is counted."""
    ids = [p for p in port_ids if p]
    if not ids:
        return set()
    their_groups = sa.select(PSG.security_group_id).where(PSG.port_id.in_(ids))
    referencing = sa.select(R.security_group_id).where(R.remote_group_id.in_(their_groups))
    peers = sa.select(PSG.port_id).where(PSG.security_group_id.in_(referencing))
    return _hosts(sa.select(P.host).where(sa.or_(P.id.in_(ids), P.id.in_(peers))).distinct(
    )) | hosts_for_port_networks(ids)


def hosts_for_instance(instance_uuid):
    """hosts_for_port_change of a server's ports (before they go or after they came)."""
    with db_api.reader() as s:
        ids = list(s.scalars(sa.select(P.id).where(
            P.device_id == instance_uuid, P.device_owner.startswith(portcore.COMPUTE_PREFIX))))
    return hosts_for_port_change(ids)


def hosts_for_network(network_id):
    """Hosts with any port (server or DHCP) on the network; for the
    external network, every host with a server port (each host carries it)."""
    with db_api.reader() as s:
        net = s.get(nm.Network, network_id)
    if net is not None and net.external:
        return _hosts(sa.select(P.host).where(
            P.device_owner.startswith(portcore.COMPUTE_PREFIX)).distinct())
    return _hosts(sa.select(P.host).where(P.network_id == network_id).distinct())


def hosts_for_port_networks(port_ids):
    """Hosts whose VXLAN peers change when the given ports are bound to a
    host, unbound, moved or deleted: every host with a server or DHCP port
    on a tenant network of one of them (their hosts included). Call it
    after a binding (the new host is then on the network) and before an
    unbinding or a delete (the leaving host is still on it)."""
    ids = [p for p in port_ids if p]
    if not ids:
        return set()
    their_nets = sa.select(P.network_id).join(
        nm.Network, nm.Network.id == P.network_id).where(
        P.id.in_(ids), nm.Network.external.is_(False))
    return _hosts_on(their_nets)


def _hosts_on(nets):
    """Hosts with a server or DHCP port on the networks (a subquery of
    network ids), and the hosts running a router with an interface on one
    of them (their routers' legs there hold the networks' guests as
    neighbours, and their VXLAN segments name the networks' hosts)."""
    routers = sa.select(P.device_id).where(P.device_owner == ROUTER_INTERFACE,
                                           P.network_id.in_(nets))
    siblings = sa.select(P.network_id).where(P.device_owner == ROUTER_INTERFACE,
                                             P.device_id.in_(routers))
    return _hosts(sa.select(P.host).where(sa.or_(
        sa.and_(P.network_id.in_(nets), _segment_port()),
        sa.and_(P.network_id.in_(siblings), sa.or_(
            P.device_owner.startswith(portcore.COMPUTE_PREFIX),
            P.device_owner == ROUTER_SNAT)))).distinct())


def hosts_for_host_networks(host):
    """Hosts that share a tenant network with ``host`` (``host`` itself
    included when it has one): their VXLAN peers name ``host``'s address,
    so they must hear when it changes (the agent reported another
    host_ip)."""
    if not host:
        return set()
    its_nets = sa.select(P.network_id).join(
        nm.Network, nm.Network.id == P.network_id).where(
        P.host == host, _segment_port(), nm.Network.external.is_(False))
    return _hosts_on(its_nets)


def hosts_for_router(router_id):
    """Hosts that run the router: those with a server port on a network
    where it has an interface, and the host its SNAT ports are bound to.
    Call it after an interface is added and before one is removed (or take
    both), so every host that ran or runs it is counted."""
    if not router_id:
        return set()
    its_nets = sa.select(P.network_id).where(P.device_id == router_id,
                                             P.device_owner == ROUTER_INTERFACE)
    return _hosts(sa.select(P.host).where(sa.or_(sa.and_(
        P.network_id.in_(its_nets), P.device_owner.startswith(portcore.COMPUTE_PREFIX)),
        sa.and_(P.device_id == router_id, P.device_owner == ROUTER_SNAT))).distinct())
