"""The ports of servers: what the compute API and the scheduler call.

A server's ports carry device_id = its uuid and device_owner 'compute:nova'.
Ports made here for a server (networks 'auto' or {'uuid': net}) are marked
preserve_on_delete=False and go with the server; ports a user made and
handed over ({'port': id}) are only unbound when the server goes, as in
Nova. Errors are Nova's (400/403/409 with Nova's messages), since the
callers answer in Nova's shape. Everything returns plain dicts. A deleted
server's ports are given back through common.db.instances' delete hook.
"""

import sqlalchemy as sa

from common import exception
from common import netnames
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import network_models as nm
from network import exception as ne
from network import lookup
from network import networks
from network import portcore
from network import secgroups

P = nm.Port
OWNER = 'compute:nova'


def _server_ports_query(uuids):
    return sa.select(P).where(P.device_id.in_(list(uuids)),
                              P.device_owner.startswith(portcore.COMPUTE_PREFIX))


def _ordered(q):
    return q.order_by(sa.case((P.device_index.is_(None), 1), else_=0), P.device_index,
                      P.created_at, P.id)


def _server_ports(s, instance_uuid):
    return list(s.scalars(_ordered(_server_ports_query([instance_uuid]))))


# --- choosing networks -------------------------------------------------------

def _auto_network(s, project_id):
    """'auto': the project's one network, else the shared private one."""
    own = list(s.scalars(sa.select(nm.Network).where(nm.Network.project_id == project_id,
                                                     nm.Network.external.is_(False))))
    if len(own) == 1:
        return own[0]
    return s.scalars(sa.select(nm.Network).where(
        nm.Network.shared.is_(True), nm.Network.external.is_(False),
        nm.Network.name == CONF.network.private_network_name).order_by(
        nm.Network.created_at)).first()


def _any_network(s, ctx, project_id):
    """An interface with no network named: the one network the project
    can use, as Nova picks it."""
    nets = list(s.scalars(sa.select(nm.Network).where(
        nm.Network.external.is_(False),
        sa.or_(nm.Network.project_id == project_id, nm.Network.shared.is_(True)))))
    if len(nets) > 1:
        raise exception.Conflict('Multiple possible networks found, use a Network ID to be '
                                 'more specific.')
    if not nets:
        raise exception.BadRequest("No specific network was requested and none are available "
                                   "for project '%s'." % project_id)
    return nets[0]


def _network_for_server(s, ctx, net_id):
    try:
        net = networks.find_network(s, ctx, net_id)
    except ne.NetworkNotFound:
        raise exception.BadRequest('Network %s could not be found.' % net_id) from None
    if net.external and not net.shared and not lookup.is_admin(ctx):
        raise exception.Forbidden('It is not allowed to create an interface on external '
                                  'network %s' % net.id)
    if not portcore.subnets_of(s, net.id):
        raise exception.BadRequest('Network %s requires a subnet in order to boot instances '
                                   'on.' % net.id)
    return net


def _holder(s, subnets, ip):
    row = s.execute(sa.select(P.device_id).join(
        nm.IPAllocation, nm.IPAllocation.port_id == P.id).where(
        nm.IPAllocation.ip_address == ip,
        nm.IPAllocation.subnet_id.in_([x.id for x in subnets]))).first()
    return row[0] if row and row[0] else None


def _new_port(s, ctx, instance_uuid, project_id, net, fixed_ip, hostname, groups, index):
    values = {'device_id': instance_uuid, 'device_owner': OWNER, 'dns_name': hostname or '',
              'fixed_ips': [{'ip_address': fixed_ip}] if fixed_ip else None}
    if groups is not None:
        if not net.port_security_enabled:
            raise exception.BadRequest('Network requires port_security_enabled and subnet '
                                       'associated in order to apply security groups.')
        values['security_groups'] = groups
    try:
        return portcore.create_in(s, ctx, net, values, project_id,
                                  admin=lookup.is_admin(ctx), preserve=False,
                                  device_index=index)
    except (ne.InvalidIpForNetwork, ne.InvalidIpForSubnet):
        raise exception.BadRequest('Fixed IP %s is not a valid ip address for network %s.'
                                   % (fixed_ip, net.id)) from None
    except ne.IpAddressAlreadyAllocated:
        holder = _holder(s, portcore.subnets_of(s, net.id), fixed_ip)
        if holder:
            raise exception.Conflict('Fixed IP address %s is already in use on instance %s.'
                                     % (fixed_ip, holder)) from None
        raise exception.Conflict('Fixed IP %s is already in use.' % fixed_ip) from None
    except ne.IpAddressGenerationFailure:
        raise exception.BadRequest('No fixed IP addresses available for network: %s'
                                   % net.id) from None
    except ne.OverQuota:
        raise exception.Forbidden('Maximum number of ports exceeded') from None


def _take_port(s, ctx, instance_uuid, port_id, hostname, index, taken):
    try:
        port = portcore.find_port(s, ctx, port_id)
    except ne.PortNotFound:
        raise exception.BadRequest('Port id %s could not be found.' % port_id) from None
    if (port.device_id and port.device_id != instance_uuid) or port.id in taken or \
            (port.device_owner and not port.device_owner.startswith(portcore.COMPUTE_PREFIX)):
        raise exception.Conflict('Port %s is still in use.' % port.id)
    if not portcore.ips_of(s, [port.id])[port.id]:
        raise exception.BadRequest('Port %s requires a FixedIP in order to be used.' % port.id)
    port.device_id, port.device_owner, port.device_index = instance_uuid, OWNER, index
    if hostname:
        port.dns_name = hostname
    networks.touch(port)
    taken.add(port.id)
    return port


def _allocate_in(s, ctx, instance_uuid, project_id, requested, hostname, security_groups,
                 first_index=0):
    if requested == 'none' or requested is None:
        return []
    if requested == 'auto':
        net = _auto_network(s, project_id)
        if net is None:
            return []
        requested = [{'uuid': net.id}]
    groups = secgroups.resolve(s, project_id, security_groups) if security_groups else None
    ports, taken = [], set()
    for i, req in enumerate(requested):
        index = first_index + i
        if req.get('port'):
            ports.append(_take_port(s, ctx, instance_uuid, req['port'], hostname, index,
                                    taken))
        else:
            net = _network_for_server(s, ctx, req.get('uuid'))
            ports.append(_new_port(s, ctx, instance_uuid, project_id, net,
                                   req.get('fixed_ip'), hostname, groups, index))
    s.flush()
    return ports


@networks.retry_on_conflict
def allocate_for_instance(context, instance_uuid, project_id, requested, hostname=None,
                          security_groups=None):
    """The ports of a new server, all made in one transaction (a failure
    leaves nothing behind).

    ``requested``: 'auto' (the project's only network, else the shared
    [network] private_network_name, else no port), 'none', or Nova's list
    of {'uuid': network id, 'fixed_ip': ip} / {'port': port id}.
    ``security_groups``: names or ids of the project's groups (None: the
    'default' group). Returns the port dicts in request order.
    """
    with db_api.session() as s:
        ports = _allocate_in(s, context, instance_uuid, project_id, requested, hostname,
                             security_groups)
        return portcore.dicts(s, ports)


def _release(s, port):
    """A server lets go of ``port``: deleted if made for it, else unbound."""
    if not port.preserve_on_delete:
        portcore.delete_in(s, port)
        return
    port.device_id, port.device_owner, port.device_index = '', '', None
    port.host, port.dns_name = None, ''
    networks.touch(port)


def deallocate_for_instance(instance_uuid):
    """Give back a server's ports (delete ours, unbind the user's; floating
    IPs of deleted ports are disassociated). Idempotent. Returns the set of
    hosts those ports were bound to."""
    with db_api.session() as s:
        ports = _server_ports(s, instance_uuid)
        bound = {}
        for port in ports:
            if port.host:
                bound.setdefault(port.host, set()).add(port.network_id)
            _release(s, port)
        s.flush()
        for host, nets in bound.items():
            portcore.collect_dhcp(s, host, nets)
    return set(bound)


def _bind(instance_uuid, host):
    with db_api.session() as s:
        ports = _server_ports(s, instance_uuid)
        moved = {}
        for port in ports:
            if port.host and port.host != host:
                moved.setdefault(port.host, set()).add(port.network_id)
            if port.host != host:
                port.host = host
                networks.touch(port)
        s.flush()
        for net_id in sorted({p.network_id for p in ports}):
            portcore.ensure_dhcp(s, host, s.get(nm.Network, net_id))
        for old, nets in moved.items():
            portcore.collect_dhcp(s, old, nets)


def bind_instance_ports(instance_uuid, host):
    """Bind a server's ports to ``host`` (binding:host_id) and make sure
    the host has a DHCP port on each of their networks; DHCP ports left
    unused on a previous host go. Returns network_info(instance_uuid)."""
    networks.retry_on_conflict(_bind)(instance_uuid, host)
    return network_info(instance_uuid)


# --- what servers read -------------------------------------------------------

def _dns(subnet):
    return list(subnet.dns_nameservers or []) or list(CONF.network.dns_nameservers)


def network_info(instance_uuid):
    """One VIF dict per port of the server, in NIC order (docs/network.md)."""
    with db_api.reader() as s:
        ports = _server_ports(s, instance_uuid)
        if not ports:
            return []
        net_ids = {p.network_id for p in ports}
        nets = {n.id: n for n in s.scalars(sa.select(nm.Network).where(
            nm.Network.id.in_(net_ids)))}
        subnets = list(s.scalars(sa.select(nm.Subnet).where(
            nm.Subnet.network_id.in_(net_ids)).order_by(nm.Subnet.created_at, nm.Subnet.id)))
        ips = portcore.ips_of(s, [p.id for p in ports])
    out = []
    for port in ports:
        net = nets[port.network_id]
        mine = {}
        for sub_id, ip in ips[port.id]:
            mine.setdefault(sub_id, []).append(ip)
        subs = [{'id': x.id, 'cidr': x.cidr, 'gateway': x.gateway_ip, 'ips': mine[x.id],
                 'dns_nameservers': _dns(x),
                 'routes': [{'destination': r['destination'], 'nexthop': r['nexthop']}
                            for r in x.host_routes or []],
                 'enable_dhcp': x.enable_dhcp}
                for x in subnets if x.id in mine]
        out.append({'id': port.id, 'address': port.mac_address,
                    'devname': netnames.tap(port.id), 'type': 'bridge',
                    'network': {'id': net.id, 'label': net.name,
                                'bridge': netnames.bridge(net.id), 'mtu': net.mtu,
                                'subnets': subs}})
    return out


def addresses(instance_uuids):
    """{uuid: {network name: [{'version', 'addr', 'OS-EXT-IPS:type',
    'OS-EXT-IPS-MAC:mac_addr'}]}} for server views, a floating address
    right after its fixed one. Two queries for any number of servers."""
    uuids = list(instance_uuids)
    out = {u: {} for u in uuids}
    if not uuids:
        return out
    q = _ordered(sa.select(P.device_id, P.id, P.mac_address, nm.Network.name,
                           nm.IPAllocation.ip_address).join(
        nm.Network, nm.Network.id == P.network_id).join(
        nm.IPAllocation, nm.IPAllocation.port_id == P.id).where(
        P.device_id.in_(uuids), P.device_owner.startswith(portcore.COMPUTE_PREFIX)))
    with db_api.reader() as s:
        rows = list(s.execute(q))
        port_ids = list({r[1] for r in rows})
        fips = {}
        if port_ids:
            for port_id, fixed, floating in s.execute(sa.select(
                    nm.FloatingIP.port_id, nm.FloatingIP.fixed_ip_address,
                    nm.FloatingIP.floating_ip_address).where(
                    nm.FloatingIP.port_id.in_(port_ids))):
                fips.setdefault((port_id, fixed), []).append(floating)
    for device_id, port_id, mac, net_name, ip in rows:
        entries = out.setdefault(device_id, {}).setdefault(net_name, [])
        entries.append({'version': 4, 'addr': ip, 'OS-EXT-IPS:type': 'fixed',
                        'OS-EXT-IPS-MAC:mac_addr': mac})
        for floating in sorted(fips.get((port_id, ip), [])):
            entries.append({'version': 4, 'addr': floating, 'OS-EXT-IPS:type': 'floating',
                            'OS-EXT-IPS-MAC:mac_addr': mac})
    return out


def instance_ports(instance_uuid):
    """A server's port dicts (os-interface), in NIC order."""
    with db_api.reader() as s:
        return portcore.dicts(s, _server_ports(s, instance_uuid))


def security_group_ids(instance_uuid):
    """The ids of the security groups on a server's ports (each once)."""
    q = sa.select(nm.PortSecurityGroup.security_group_id).join(
        P, nm.PortSecurityGroup.port_id == P.id).where(
        P.device_id == instance_uuid, P.device_owner.startswith(portcore.COMPUTE_PREFIX))
    with db_api.reader() as s:
        return sorted(set(s.scalars(q)))


def security_group_names(instance_uuids):
    """{uuid: [group name, ...]} (each name once) for server views."""
    uuids = list(instance_uuids)
    out = {u: [] for u in uuids}
    if not uuids:
        return out
    q = sa.select(P.device_id, nm.SecurityGroup.name).join(
        nm.PortSecurityGroup, nm.PortSecurityGroup.port_id == P.id).join(
        nm.SecurityGroup, nm.SecurityGroup.id == nm.PortSecurityGroup.security_group_id).where(
        P.device_id.in_(uuids), P.device_owner.startswith(portcore.COMPUTE_PREFIX))
    with db_api.reader() as s:
        rows = list(s.execute(_ordered(q).order_by(nm.SecurityGroup.name)))
    for device_id, name in rows:
        names = out.setdefault(device_id, [])
        if name not in names:
            names.append(name)
    return out


# --- interfaces (os-interface) -----------------------------------------------

@networks.retry_on_conflict
def create_port_for_interface(context, instance_uuid, project_id, net_id=None, port_id=None,
                              fixed_ip=None):
    """One more port for a running server (hot-plug), with allocate's rules
    and errors: ``port_id`` (the user's port), else ``net_id`` (a new port,
    ``fixed_ip`` optional), else the one network the project can use. The
    new port has the groups of the server's other ports (else 'default').
    Not bound to a host yet: bind_instance_ports does that."""
    with db_api.session() as s:
        current = _server_ports(s, instance_uuid)
        index = max([p.device_index or 0 for p in current] + [-1]) + 1
        inst = s.get(cm.Instance, instance_uuid)
        hostname = inst.hostname if inst is not None else None
        if port_id:
            requested = [{'port': port_id}]
        else:
            net = _any_network(s, context, project_id) if not net_id else None
            requested = [{'uuid': net_id or net.id, 'fixed_ip': fixed_ip}]
        groups = None
        if current:
            by_port = portcore.groups_of(s, [p.id for p in current])
            groups = sorted({g for gids in by_port.values() for g in gids}) or None
        ports = _allocate_in(s, context, instance_uuid, project_id, requested, hostname,
                             groups, first_index=index)
        return portcore.dicts(s, ports)[0]


def release_interface(instance_uuid, port_id):
    """Detach ``port_id`` from the server: deleted if the server made it,
    else unbound. 404 if the server has no such port. Returns the set of
    hosts it was bound to."""
    with db_api.session() as s:
        port = next((p for p in _server_ports(s, instance_uuid) if p.id == port_id), None)
        if port is None:
            raise exception.NotFound('Port %s is not attached' % port_id)
        host, net_id = port.host, port.network_id
        _release(s, port)
        s.flush()
        if host:
            portcore.collect_dhcp(s, host, [net_id])
    return {host} if host else set()


# --- security groups of a server (addSecurityGroup / removeSecurityGroup) ----

def add_security_group(instance_uuid, project_id, ref):
    """Put group ``ref`` (name or id of the project's groups) on every port
    of the server that has port security. 400 for an unknown group, 400 when
    the server has no port. Returns the group id."""
    with db_api.session() as s:
        gid = secgroups.resolve(s, project_id, [ref])[0]
        ports = [p for p in _server_ports(s, instance_uuid) if p.port_security_enabled]
        if not ports:
            raise exception.BadRequest('The server has no port that takes security '
                                       'groups.')
        current = portcore.groups_of(s, [p.id for p in ports])
        for port in ports:
            if gid not in current[port.id]:
                s.add(nm.PortSecurityGroup(port_id=port.id, security_group_id=gid))
                networks.touch(port)
    return gid


def remove_security_group(instance_uuid, project_id, ref):
    """Take group ``ref`` off the server's ports; 404 when none has it."""
    with db_api.session() as s:
        try:
            gid = secgroups.resolve(s, project_id, [ref])[0]
        except exception.BadRequest as e:
            raise exception.NotFound(e.message) from None
        ports = _server_ports(s, instance_uuid)
        ids = [p.id for p in ports]
        current = portcore.groups_of(s, ids)
        holding = [p for p in ports if gid in current[p.id]]
        if not holding:
            raise exception.NotFound('Security group %s not in use on instance %s.'
                                     % (ref, instance_uuid))
        s.execute(sa.delete(nm.PortSecurityGroup).where(
            nm.PortSecurityGroup.port_id.in_([p.id for p in holding]),
            nm.PortSecurityGroup.security_group_id == gid))
        for port in holding:
            networks.touch(port)
    return gid
