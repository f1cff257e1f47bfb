"""Port records: the rules of making, changing and removing a port, shared
by the port API (api/network/ports.py) and the server-facing functions
(network/ports.py).

Helpers with a leading session argument work inside the caller's
transaction, so a server's ports are made all together or not at all.
"""

import ipaddress
import uuid

import sqlalchemy as sa

from common.db import api as db_api
from common.db import network_models as nm
from common.db.models import utcnow
from network import exception as ne
from network import ipam
from network import lookup
from network import networks
from network import quota as netquota
from network import secgroups

P = nm.Port
DHCP_OWNER = networks.DHCP_OWNER
COMPUTE_PREFIX = 'compute:'
DNS_DOMAIN = 'openstacklocal.'


# --- views -------------------------------------------------------------------

def status(port):
    return 'ACTIVE' if port.host and port.device_id and port.admin_state_up else 'DOWN'


def _dns_assignment(port, ips):
    out = []
    for _sub, ip in ips:
        host = port.dns_name or 'host-%s' % ip.replace('.', '-')
        out.append({'hostname': host, 'ip_address': ip, 'fqdn': '%s.%s' % (host, DNS_DOMAIN)})
    return out


def port_dict(port, ips, group_ids):
    """``ips``: [(subnet_id, ip)] in the port's order; ``group_ids``: [id]."""
    return {
        'id': port.id, 'name': port.name, 'network_id': port.network_id,
        'tenant_id': port.project_id, 'project_id': port.project_id,
        'mac_address': port.mac_address, 'admin_state_up': port.admin_state_up,
        'status': status(port), 'device_id': port.device_id,
        'device_owner': port.device_owner,
        'fixed_ips': [{'subnet_id': sub, 'ip_address': ip} for sub, ip in ips],
        'security_groups': list(group_ids),
        'port_security_enabled': port.port_security_enabled,
        'allowed_address_pairs': [dict(p) for p in port.allowed_address_pairs or []],
        'extra_dhcp_opts': [dict(o) for o in port.extra_dhcp_opts or []],
        'binding:host_id': port.host or '',
        'binding:vif_type': 'bridge' if port.host else 'unbound',
        'binding:vnic_type': port.vnic_type or 'normal',
        'binding:vif_details': {},
        'binding:profile': dict(port.binding_profile or {}),
        'dns_name': port.dns_name or '', 'dns_assignment': _dns_assignment(port, ips),
        'description': port.description, 'tags': list(port.tags or []),
        'created_at': nm.iso(port.created_at), 'updated_at': nm.iso(port.updated_at),
        'revision_number': port.revision_number,
    }


def _ip_key(ip):
    return ipaddress.ip_address(ip)


def ips_of(s, port_ids):
    """{port id: [(subnet_id, ip)]}, addresses in numeric order."""
    out = {p: [] for p in port_ids}
    if port_ids:
        rows = s.execute(sa.select(nm.IPAllocation.port_id, nm.IPAllocation.subnet_id,
                                   nm.IPAllocation.ip_address).where(
            nm.IPAllocation.port_id.in_(port_ids)))
        for port_id, sub, ip in rows:
            out[port_id].append((sub, ip))
        for v in out.values():
            v.sort(key=lambda x: _ip_key(x[1]))
    return out


def groups_of(s, port_ids):
    out = {p: [] for p in port_ids}
    if port_ids:
        rows = s.execute(sa.select(nm.PortSecurityGroup.port_id,
                                   nm.PortSecurityGroup.security_group_id).where(
            nm.PortSecurityGroup.port_id.in_(port_ids)))
        for port_id, gid in rows:
            out[port_id].append(gid)
        for v in out.values():
            v.sort()
    return out


def dicts(s, ports):
    ids = [p.id for p in ports]
    ips, groups = ips_of(s, ids), groups_of(s, ids)
    return [port_dict(p, ips[p.id], groups[p.id]) for p in ports]


# --- finding -----------------------------------------------------------------

def find_port(s, ctx, port_id):
    return lookup.find(s, ctx, P, port_id, ne.PortNotFound(port_id=port_id))


def get_port(ctx, port_id):
    with db_api.reader() as s:
        return dicts(s, [find_port(s, ctx, port_id)])[0]


def list_ports(ctx, ids=None, network_ids=None, device_ids=None, names=None,
               device_owners=None):
    q = sa.select(P).where(lookup.visible(ctx, P))
    for col, values in ((P.id, ids), (P.network_id, network_ids), (P.device_id, device_ids),
                        (P.name, names), (P.device_owner, device_owners)):
        if values:
            q = q.where(col.in_(values))
    with db_api.reader() as s:
        return dicts(s, list(s.scalars(q.order_by(P.created_at, P.id))))


# --- addresses ---------------------------------------------------------------

def subnets_of(s, network_id):
    return list(s.scalars(sa.select(nm.Subnet).where(nm.Subnet.network_id == network_id)
                          .order_by(nm.Subnet.created_at, nm.Subnet.id)))


def _parse_fixed_ip(entry):
    if not isinstance(entry, dict) or set(entry) - {'subnet_id', 'ip_address'}:
        raise ne.HTTPBadRequest(msg="Invalid input for fixed_ips. Reason: Invalid data format "
                                    "for fixed IP: '%s'." % (entry,))
    ip = entry.get('ip_address')
    if ip is not None:
        ip = str(ipam.parse_ip(ip, 'fixed_ips'))
    return entry.get('subnet_id'), ip


def _entry_subnet(net, subnets, sub_id, ip):
    by_id = {x.id: x for x in subnets}
    if sub_id:
        sub = by_id.get(sub_id)
        if sub is None:
            raise ne.InvalidInput(error_message='Failed to create port on network %s, because '
                                                'fixed_ips included invalid subnet %s'
                                                % (net.id, sub_id))
        if ip is not None and not ipam.usable(ipam.subnet_net(sub), ipaddress.ip_address(ip)):
            raise ne.InvalidIpForSubnet(ip_address=ip)
        return sub
    if ip is None:
        raise ne.InvalidInput(error_message='IP allocation requires subnet_id or ip_address')
    sub = ipam.subnet_for_ip(subnets, ip)
    if sub is None:
        raise ne.InvalidIpForNetwork(ip_address=ip)
    return sub


def assign_ips(s, port, net, entries, keep=()):
    """Give ``port`` the addresses of ``entries`` (Neutron's fixed_ips);
    None means one address from the first subnet with room. ``keep`` are
    (subnet_id, ip) the port holds already and may keep."""
    subnets = subnets_of(s, net.id)
    if entries is None:
        if not subnets:
            return
        for sub in subnets:
            if ipam.allocate(s, sub, port_id=port.id) is not None:
                return
        raise ne.IpAddressGenerationFailure(net_id=net.id)
    held = list(keep)
    for entry in entries:
        sub_id, ip = _parse_fixed_ip(entry)
        sub = _entry_subnet(net, subnets, sub_id, ip)
        mine = [h for h in held if h[0] == sub.id and (ip is None or h[1] == ip)]
        if mine:
            held.remove(mine[0])
            continue
        if ipam.allocate(s, sub, ip, port_id=port.id,
                         router=port.device_owner.startswith('network:router')) is None:
            raise ne.IpAddressGenerationFailure(net_id=net.id)
    return held  # what the port had and no entry asked for


def _check_pairs(pairs, mac):
    out = []
    for pair in pairs or []:
        if not isinstance(pair, dict) or 'ip_address' not in pair or \
                set(pair) - {'ip_address', 'mac_address'}:
            raise ne.InvalidInput(error_message='AllowedAddressPair must contain ip_address')
        try:
            ip = str(ipaddress.ip_network(pair['ip_address'], strict=False)) \
                if '/' in str(pair['ip_address']) else str(ipaddress.ip_address(
                    pair['ip_address']))
        except ValueError:
            raise ne.HTTPBadRequest(msg="Invalid input for allowed_address_pairs. Reason: "
                                        "'%s' is not a valid IP address." % pair['ip_address']
                                    ) from None
        entry = {'ip_address': ip,
                 'mac_address': ipam.check_mac(pair['mac_address']) if pair.get(
                     'mac_address') else mac}
        if entry in out:
            raise ne.InvalidInput(error_message='Request contains duplicate address pair: '
                                                'mac_address %s ip_address %s'
                                  % (entry['mac_address'], ip))
        out.append(entry)
    return out


def _set_groups(s, port, group_ids):
    s.execute(sa.delete(nm.PortSecurityGroup).where(nm.PortSecurityGroup.port_id == port.id))
    for gid in group_ids:
        s.add(nm.PortSecurityGroup(port_id=port.id, security_group_id=gid))


def _check_mac_free(s, network_id, mac, port_id=None):
    q = sa.select(P.id).where(P.network_id == network_id, P.mac_address == mac)
    if port_id:
        q = q.where(P.id != port_id)
    if s.scalar(q) is not None:
        raise ne.MacAddressInUse(net_id=network_id, mac=mac)


# --- create / update / delete ------------------------------------------------

def create_in(s, ctx, net, values, project_id, admin=False, port_id=None, quota=True,
              preserve=True, device_index=None):
    """Make a port on ``net`` in session ``s`` from API-style values; the
    network's visibility and usability are the caller's to check."""
    owner = values.get('device_owner') or ''
    if quota and owner != DHCP_OWNER:
        netquota.check(s, project_id, {'port': 1})
    if values.get('mac_address'):
        mac = ipam.check_mac(values['mac_address'])
        _check_mac_free(s, net.id, mac)
    else:
        mac = ipam.new_mac(s, net.id)
    security = values.get('port_security_enabled')
    if security is None:
        security = net.port_security_enabled
    groups = values.get('security_groups')
    if groups is None:
        groups = [secgroups.default_group(s, project_id).id] \
            if security and not owner.startswith('network:') else []
    else:
        groups = secgroups.check_port_groups(s, project_id, groups, admin)
    if groups and not security:
        raise ne.PortSecurityPortHasSecurityGroup()
    pairs = _check_pairs(values.get('allowed_address_pairs'), mac)
    if pairs and not security:
        raise ne.AddressPairAndPortSecurityRequired()
    now = utcnow()
    port = P(id=port_id or networks.new_id(), network_id=net.id, project_id=project_id,
             name=values.get('name') or '', description=values.get('description') or '',
             mac_address=mac, admin_state_up=values.get('admin_state_up', True),
             device_id=values.get('device_id') or '', device_owner=owner,
             host=values.get('binding:host_id') or None,
             vnic_type=values.get('binding:vnic_type') or 'normal',
             binding_profile=dict(values.get('binding:profile') or {}),
             port_security_enabled=security, allowed_address_pairs=pairs,
             extra_dhcp_opts=list(values.get('extra_dhcp_opts') or []),
             dns_name=values.get('dns_name') or '', preserve_on_delete=preserve,
             device_index=device_index, tags=list(values.get('tags') or []),
             revision_number=1, created_at=now, updated_at=now)
    s.add(port)
    s.flush()
    _set_groups(s, port, groups)
    assign_ips(s, port, net, values.get('fixed_ips'))
    s.flush()
    return port


@networks.retry_on_conflict
def create_port(ctx, values):
    """The port API's create: on a network the caller may use."""
    admin = lookup.is_admin(ctx)
    project_id = values.get('project_id') or ctx.project_id
    with db_api.session() as s:
        net = networks.find_network(s, ctx, values['network_id'])
        if not networks.usable(ctx, net):
            raise ne.policy_error('create_port')
        port = create_in(s, ctx, net, values, project_id, admin=admin)
        return dicts(s, [port])[0]


_SIMPLE = {'name': 'name', 'description': 'description', 'admin_state_up': 'admin_state_up',
           'device_id': 'device_id', 'device_owner': 'device_owner', 'dns_name': 'dns_name',
           'binding:vnic_type': 'vnic_type', 'extra_dhcp_opts': 'extra_dhcp_opts',
           'tags': 'tags'}


def _fips_on(s, port_id):
    return list(s.scalars(sa.select(nm.FloatingIP).where(nm.FloatingIP.port_id == port_id)))


def update_in(s, ctx, port, values):
    """Change ``port`` (already found) from API-style values."""
    net = s.get(nm.Network, port.network_id)
    for key, attr in _SIMPLE.items():
        if key in values:
            value = values[key]
            if key in ('extra_dhcp_opts', 'tags'):
                value = list(value or [])
            elif value is None:
                value = 'normal' if key == 'binding:vnic_type' else ''
            setattr(port, attr, value)
    if 'binding:host_id' in values:
        port.host = values['binding:host_id'] or None
    if 'binding:profile' in values:
        port.binding_profile = dict(values['binding:profile'] or {})
    if values.get('mac_address') and values['mac_address'].lower() != port.mac_address:
        if port.host:
            raise ne.HTTPBadRequest(msg='Unable to complete operation on port %s, port is '
                                        'already bound.' % port.id)
        port.mac_address = ipam.check_mac(values['mac_address'])
        _check_mac_free(s, port.network_id, port.mac_address, port.id)
    if 'port_security_enabled' in values:
        port.port_security_enabled = values['port_security_enabled']
    groups = groups_of(s, [port.id])[port.id]
    if 'security_groups' in values:
        groups = secgroups.check_port_groups(s, port.project_id, values['security_groups'] or [],
                                             lookup.is_admin(ctx))
        _set_groups(s, port, groups)
    if groups and not port.port_security_enabled:
        raise ne.PortSecurityPortHasSecurityGroup()
    if 'allowed_address_pairs' in values:
        port.allowed_address_pairs = _check_pairs(values['allowed_address_pairs'],
                                                  port.mac_address)
    if port.allowed_address_pairs and not port.port_security_enabled:
        raise ne.AddressPairAndPortSecurityRequired()
    if 'fixed_ips' in values:
        current = ips_of(s, [port.id])[port.id]
        dropped = assign_ips(s, port, net, values['fixed_ips'] or [], keep=current)
        fips = {f.fixed_ip_address: f for f in _fips_on(s, port.id)}
        for sub_id, ip in dropped:
            if ip in fips:
                raise ne.BadRequest(resource='port', msg='Cannot update the fixed_ips of the '
                                                         'port %s, because its fixed IP %s is '
                                                         'associated with floating IP %s'
                                    % (port.id, ip, fips[ip].floating_ip_address))
            s.execute(sa.delete(nm.IPAllocation).where(nm.IPAllocation.subnet_id == sub_id,
                                                       nm.IPAllocation.ip_address == ip))
    networks.touch(port)
    s.flush()
    return port


@networks.retry_on_conflict
def update_port(ctx, port_id, values):
    with db_api.session() as s:
        port = find_port(s, ctx, port_id)
        old_host = port.host
        update_in(s, ctx, port, values)
        if old_host and old_host != port.host:
            collect_dhcp(s, old_host, [port.network_id])
        return dicts(s, [port])[0]


def delete_in(s, port):
    """Remove a port: its floating IPs are disassociated, its addresses
    and group memberships go with it."""
    for fip in _fips_on(s, port.id):
        fip.port_id, fip.fixed_ip_address = None, None
        networks.touch(fip)
    s.flush()
    s.delete(port)
    s.flush()


def delete_port(ctx, port_id):
    """The port API's delete (Neutron allows it for a server's port too).
    Returns the host it was bound to, or None."""
    with db_api.session() as s:
        port = find_port(s, ctx, port_id)
        host, net_id = port.host, port.network_id
        delete_in(s, port)
        if host:
            collect_dhcp(s, host, [net_id])
        return host


# --- DHCP ports --------------------------------------------------------------

def dhcp_device_id(host, network_id):
    return 'dhcp-%s-%s' % (host, network_id)


def ensure_dhcp(s, host, net):
    """The DHCP port of ``net`` on ``host`` (one address from each DHCP
    subnet), made if missing; None when the network serves no DHCP."""
    subnets = [x for x in subnets_of(s, net.id) if x.enable_dhcp]
    if not subnets:
        return None
    device_id = dhcp_device_id(host, net.id)
    port = s.scalars(sa.select(P).where(P.network_id == net.id, P.device_owner == DHCP_OWNER,
                                        P.device_id == device_id)).first()
    if port is None:
        # One id per host and network: two binds racing to make it collide
        # on the primary key instead of making two.
        port_id = str(uuid.uuid5(uuid.NAMESPACE_URL, 'altostack:%s' % device_id))
        port = create_in(s, None, net, {'device_owner': DHCP_OWNER, 'device_id': device_id,
                                        'binding:host_id': host, 'fixed_ips': [],
                                        'port_security_enabled': False,
                                        'security_groups': []},
                         net.project_id, admin=True, quota=False, port_id=port_id)
    have = {sub for sub, _ip in ips_of(s, [port.id])[port.id]}
    for sub in subnets:
        if sub.id not in have:
            ipam.allocate(s, sub, port_id=port.id)
    return port


def collect_dhcp(s, host, network_ids):
    """Remove ``host``'s DHCP ports on networks where it has no server port left."""
    for net_id in set(network_ids):
        left = s.scalar(sa.select(P.id).where(P.network_id == net_id, P.host == host,
                                              P.device_owner.startswith(COMPUTE_PREFIX))
                        .limit(1))
        if left is None:
            for port in s.scalars(sa.select(P).where(P.network_id == net_id, P.host == host,
                                                     P.device_owner == DHCP_OWNER)):
                s.delete(port)
    s.flush()
