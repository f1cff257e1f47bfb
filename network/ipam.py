"""IPv4 address management: CIDRs, gateways, allocation pools, and handing
out addresses and MACs inside the caller's transaction.

An address is taken by inserting its ip_allocations row (primary key
subnet_id + ip_address), so a concurrent taker of the same address fails
its transaction rather than sharing it.
"""

import ipaddress
import random

import sqlalchemy as sa

from common.conf import CONF
from common.db import network_models as nm
from network import exception as ne


def parse_cidr(value):
    """An IPv4 network from a CIDR, host bits cleared (as Neutron does);
    anything else is a 400."""
    if not isinstance(value, str) or '/' not in value:
        raise ne.HTTPBadRequest(msg="Invalid input for cidr. Reason: '%s' is not a valid IP "
                                    'subnet.' % (value,))
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ne.HTTPBadRequest(msg="Invalid input for cidr. Reason: '%s' is not a valid IP "
                                    'subnet.' % value) from None
    if net.version != 4:
        raise ne.InvalidInput(error_message='IPv6 subnets are not supported: %s; only '
                                            'ip_version 4 is' % value)
    return net


def parse_ip(value, attr='ip_address'):
    try:
        ip = ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise ne.HTTPBadRequest(msg="Invalid input for %s. Reason: '%s' is not a valid IP "
                                    'address.' % (attr, value)) from None
    if ip.version != 4:
        raise ne.InvalidInput(error_message='%s %s is not an IPv4 address' % (attr, value))
    return ip


def usable(net, ip):
    """True if ``ip`` may be given to a port: inside, and neither the
    network nor the broadcast address (those exist only up to /30)."""
    if ip not in net:
        return False
    if net.prefixlen <= 30 and ip in (net.network_address, net.broadcast_address):
        return False
    return True


def first_hosts(net):
    """First and last address a port may get."""
    if net.prefixlen <= 30:
        return net.network_address + 1, net.broadcast_address - 1
    return net.network_address, net.broadcast_address


def default_gateway(net):
    return str(first_hosts(net)[0])


def default_pools(net, gateway):
    """The whole usable range, without the gateway."""
    first, last = first_hosts(net)
    pools = []
    gw = ipaddress.ip_address(gateway) if gateway else None
    if gw is not None and first <= gw <= last:
        if first < gw:
            pools.append((first, gw - 1))
        if gw < last:
            pools.append((gw + 1, last))
    else:
        pools.append((first, last))
    return [{'start': str(a), 'end': str(b)} for a, b in pools]


def _pool_text(start, end):
    return '%s-%s' % (start, end)


def check_pools(net, pools, gateway):
    """Validate allocation pools against the subnet and its gateway; returns
    them as [{'start', 'end'}] strings."""
    ranges = []
    for pool in pools:
        if not isinstance(pool, dict) or set(pool) - {'start', 'end'} or \
                'start' not in pool or 'end' not in pool:
            raise ne.HTTPBadRequest(msg="Invalid input for allocation_pools. Reason: "
                                        "Invalid data format for IP pool: '%s'." % (pool,))
        start = parse_ip(pool['start'], 'allocation_pools')
        end = parse_ip(pool['end'], 'allocation_pools')
        if start > end:
            raise ne.InvalidAllocationPool(pool=_pool_text(start, end))
        if start not in net or end not in net or \
                (net.prefixlen <= 30 and (start == net.network_address or
                                          end == net.broadcast_address)):
            raise ne.OutOfBoundsAllocationPool(pool=_pool_text(start, end), subnet_cidr=net)
        ranges.append((start, end))
    ranges.sort()
    for (a1, b1), (a2, b2) in zip(ranges, ranges[1:], strict=False):
        if a2 <= b1:
            raise ne.OverlappingAllocationPools(pool_1=_pool_text(a1, b1),
                                                pool_2=_pool_text(a2, b2), subnet_cidr=net)
    if gateway:
        gw = ipaddress.ip_address(gateway)
        for a, b in ranges:
            if a <= gw <= b:
                raise ne.GatewayConflictWithAllocationPools(ip_address=gateway,
                                                            pool=_pool_text(a, b))
    return [{'start': str(a), 'end': str(b)} for a, b in ranges]


def check_gateway(net, gateway):
    """A gateway must be a usable address of the subnet (stricter than
    Neutron, which also takes one outside: our router namespace holds it)."""
    if gateway is None:
        return None
    ip = parse_ip(gateway, 'gateway_ip')
    if not usable(net, ip):
        raise ne.InvalidInput(error_message='Gateway is not valid on subnet')
    return str(ip)


def check_dns(values):
    out = []
    for v in values or []:
        ip = parse_ip(v, 'dns_nameservers')
        if str(ip) in out:
            raise ne.HTTPBadRequest(msg="Invalid input for dns_nameservers. Reason: Duplicate "
                                        "nameserver '%s'." % v)
        out.append(str(ip))
    return out


def check_routes(values):
    out = []
    for r in values or []:
        if not isinstance(r, dict) or set(r) != {'destination', 'nexthop'}:
            raise ne.HTTPBadRequest(msg="Invalid input for host_routes. Reason: Invalid data "
                                        "format for hostroute: '%s'." % (r,))
        try:
            dest = ipaddress.ip_network(r['destination'], strict=False)
        except (ValueError, TypeError):
            raise ne.HTTPBadRequest(msg="Invalid input for host_routes. Reason: '%s' is not "
                                        'a valid IP subnet.' % r['destination']) from None
        hop = parse_ip(r['nexthop'], 'host_routes')
        route = {'destination': str(dest), 'nexthop': str(hop)}
        if route in out:
            raise ne.HTTPBadRequest(msg="Invalid input for host_routes. Reason: Duplicate "
                                        "hostroute '%s'." % (r,))
        out.append(route)
    return out


def subnet_net(subnet):
    return ipaddress.ip_network(subnet.cidr)


def _pool_ranges(subnet):
    return [(ipaddress.ip_address(p['start']), ipaddress.ip_address(p['end']))
            for p in subnet.allocation_pools or []]


def taken(s, subnet_id):
    return set(s.scalars(sa.select(nm.IPAllocation.ip_address).where(
        nm.IPAllocation.subnet_id == subnet_id)))


def next_free(s, subnet):
    """The lowest free address of the subnet's pools, or None."""
    used = taken(s, subnet.id)
    for start, end in _pool_ranges(subnet):
        ip = start
        while ip <= end:
            if str(ip) not in used:
                return str(ip)
            ip += 1
    return None


def check_free(s, subnet, ip, router=False):
    """``ip`` as text if a port may take it on ``subnet`` now, else
    InvalidIpForSubnet or IpAddressAlreadyAllocated."""
    addr = ipaddress.ip_address(ip)
    if not usable(subnet_net(subnet), addr):
        raise ne.InvalidIpForSubnet(ip_address=ip)
    ip = str(addr)
    if (ip == subnet.gateway_ip and not router) or \
            s.get(nm.IPAllocation, (subnet.id, ip)) is not None:
        raise ne.IpAddressAlreadyAllocated(ip=ip, subnet_id=subnet.id)
    return ip


def allocate(s, subnet, ip=None, port_id=None, floatingip_id=None, router=False):
    """Take ``ip`` (or the next free pool address) on ``subnet`` for a port
    or floating IP. A given address may lie outside the pools but inside
    the subnet; it may not be the gateway unless for a router. Raises
    InvalidIpForSubnet, IpAddressAlreadyAllocated; returns the address, or
    None when the pools are exhausted."""
    if ip is None:
        ip = next_free(s, subnet)
        if ip is None:
            return None
    else:
        ip = check_free(s, subnet, ip, router)
    s.add(nm.IPAllocation(subnet_id=subnet.id, ip_address=ip, network_id=subnet.network_id,
                          port_id=port_id, floatingip_id=floatingip_id))
    s.flush()
    return ip


def subnet_for_ip(subnets, ip):
    """The subnet among ``subnets`` where ``ip`` is usable, else None."""
    addr = ipaddress.ip_address(ip)
    for sub in subnets:
        if usable(subnet_net(sub), addr):
            return sub
    return None


# --- MAC addresses ------------------------------------------------------------

def _prefix():
    return ':'.join(CONF.network.base_mac.lower().split(':')[:3])


def check_mac(value):
    parts = value.split(':') if isinstance(value, str) else []
    try:
        ok = len(parts) == 6 and all(len(p) == 2 and 0 <= int(p, 16) <= 255 for p in parts)
    except ValueError:
        ok = False
    if not ok or int(parts[0], 16) & 1 or value.lower() == '00:00:00:00:00:00':
        raise ne.HTTPBadRequest(msg="Invalid input for mac_address. Reason: '%s' is not a "
                                    'valid MAC address.' % (value,))
    return value.lower()


def new_mac(s, network_id):
    """A random MAC with the configured prefix, unique on the network."""
    used = set(s.scalars(sa.select(nm.Port.mac_address).where(
        nm.Port.network_id == network_id)))
    prefix = _prefix()
    for _ in range(64):
        mac = '%s:%02x:%02x:%02x' % (prefix, random.randint(0, 255), random.randint(0, 255),
                                     random.randint(0, 255))
        if mac not in used:
            return mac
    raise ne.IpAddressGenerationFailure(net_id=network_id)  # 16M MACs: never in practice
