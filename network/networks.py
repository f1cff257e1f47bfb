"""Networks and subnets: the records, who sees them, and their rules.

Functions take the request context first and return plain dicts in the
Neutron API's shape. A project sees its own networks, shared ones and
external ones (admins see all); a network it cannot see is 404, one it
sees but does not own is 403 for changes (the API checks policy with the
owner). Values come in already type-checked by the API layer
(api/network/*); the rules about how values relate live here.
"""

import functools
import random
import uuid

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc

from common import exception
from common.conf import CONF
from common.db import api as db_api
from common.db import network_models as nm
from common.db.models import utcnow
from network import exception as ne
from network import ipam
from network import lookup
from network import quota as netquota

LOG = logging.getLogger(__name__)
ATTEMPTS = 4
MAX_VNI = 2 ** 24 - 1
DHCP_OWNER = 'network:dhcp'
NETWORK_TYPES = ('vxlan', 'flat')


def new_id():
    return str(uuid.uuid4())


def retry_on_conflict(fn):
    """Run ``fn`` again when its transaction lost a race on a unique key
    (an address, a MAC, a VNI taken meanwhile by another writer; only on
    MariaDB/PostgreSQL, where writers run side by side). The next attempt
    picks another value, or reports the taken one properly."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except sa_exc.IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
                LOG.info('%s lost a race on a unique key; trying again', fn.__name__)
    return wrapper


def touch(row):
    """A change: bump the revision and the update time."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = utcnow()


def visible(ctx):
    """SQL condition: the networks ``ctx`` may see."""
    if lookup.is_admin(ctx):
        return sa.true()
    return sa.or_(nm.Network.project_id == ctx.project_id, nm.Network.shared.is_(True),
                  nm.Network.external.is_(True))


def usable(ctx, net):
    """May ``ctx`` put ports on ``net``: its own, shared, or as admin."""
    return lookup.is_admin(ctx) or net.shared or net.project_id == ctx.project_id


# --- views -------------------------------------------------------------------

def network_dict(net, subnet_ids):
    return {
        'id': net.id, 'name': net.name, 'tenant_id': net.project_id,
        'project_id': net.project_id, 'admin_state_up': net.admin_state_up,
        'mtu': net.mtu, 'status': 'ACTIVE', 'subnets': list(subnet_ids),
        'shared': net.shared, 'availability_zone_hints': list(net.availability_zone_hints or []),
        'availability_zones': [], 'ipv4_address_scope': None, 'ipv6_address_scope': None,
        'router:external': net.external, 'description': net.description,
        'port_security_enabled': net.port_security_enabled, 'is_default': net.is_default,
        'tags': list(net.tags or []), 'dns_domain': net.dns_domain or '',
        'created_at': nm.iso(net.created_at),
        'updated_at': nm.iso(net.updated_at), 'revision_number': net.revision_number,
        'provider:network_type': net.network_type,
        'provider:physical_network': net.physical_network,
        'provider:segmentation_id': net.segmentation_id,
    }


def subnet_dict(sub):
    return {
        'id': sub.id, 'name': sub.name, 'tenant_id': sub.project_id,
        'project_id': sub.project_id, 'network_id': sub.network_id,
        'ip_version': sub.ip_version, 'subnetpool_id': None, 'enable_dhcp': sub.enable_dhcp,
        'ipv6_ra_mode': None, 'ipv6_address_mode': None, 'gateway_ip': sub.gateway_ip,
        'cidr': sub.cidr, 'allocation_pools': [dict(p) for p in sub.allocation_pools or []],
        'host_routes': [dict(r) for r in sub.host_routes or []],
        'dns_nameservers': list(sub.dns_nameservers or []), 'description': sub.description,
        'service_types': [], 'segment_id': None, 'tags': list(sub.tags or []),
        'created_at': nm.iso(sub.created_at), 'updated_at': nm.iso(sub.updated_at),
        'revision_number': sub.revision_number,
    }


def _subnet_ids(s, net_ids):
    out = {n: [] for n in net_ids}
    if net_ids:
        rows = s.execute(sa.select(nm.Subnet.network_id, nm.Subnet.id).where(
            nm.Subnet.network_id.in_(net_ids)).order_by(nm.Subnet.created_at, nm.Subnet.id))
        for net_id, sub_id in rows:
            out[net_id].append(sub_id)
    return out


# --- networks ----------------------------------------------------------------

def find_network(s, ctx, net_id):
    """The network row ``ctx`` may see, or NetworkNotFound."""
    q = sa.select(nm.Network).where(nm.Network.id == str(net_id), visible(ctx))
    return lookup.first(s, q, ne.NetworkNotFound(net_id=net_id))


def get_network(ctx, net_id):
    with db_api.reader() as s:
        net = find_network(s, ctx, net_id)
        return network_dict(net, _subnet_ids(s, [net.id])[net.id])


def list_networks(ctx, ids=None, names=None):
    q = sa.select(nm.Network).where(visible(ctx))
    if ids:
        q = q.where(nm.Network.id.in_(ids))
    if names:
        q = q.where(nm.Network.name.in_(names))
    with db_api.reader() as s:
        nets = list(s.scalars(q.order_by(nm.Network.created_at, nm.Network.id)))
        subs = _subnet_ids(s, [n.id for n in nets])
        return [network_dict(n, subs[n.id]) for n in nets]


def _free_vni(s):
    for _ in range(100):
        vni = random.randint(1, MAX_VNI)
        if s.scalar(sa.select(nm.Network.id).where(nm.Network.segmentation_id == vni)) is None:
            return vni
    raise exception.ServiceUnavailable(reason='no free VXLAN id')


def _provider(s, values, external, current=None):
    ntype = values.get('provider:network_type') or ('flat' if external else 'vxlan')
    if ntype not in NETWORK_TYPES:
        raise ne.InvalidInput(error_message='network_type value \'%s\' not supported' % ntype)
    seg = values.get('provider:segmentation_id')
    physnet = values.get('provider:physical_network')
    if ntype == 'flat':
        if seg is not None:
            raise ne.InvalidInput(error_message='segmentation_id specified for flat provider '
                                                'network')
        return ntype, physnet, None
    if physnet:
        raise ne.InvalidInput(error_message='provider:physical_network specified for vxlan '
                                            'network')
    if seg is None:
        return ntype, None, current if current is not None else _free_vni(s)
    if not 1 <= seg <= MAX_VNI:
        raise ne.InvalidInput(error_message='segmentation_id out of range (1 through %d)'
                                            % MAX_VNI)
    other = s.scalar(sa.select(nm.Network.id).where(nm.Network.segmentation_id == seg))
    if other is not None:
        raise ne.TunnelIdInUse(tunnel_id=seg)
    return ntype, None, seg


@retry_on_conflict
def create_network(ctx, values):
    """Make a network from API values ('name', 'router:external', ...)."""
    external = bool(values.get('router:external', False))
    project_id = values.get('project_id') or ctx.project_id
    with db_api.session() as s:
        netquota.check(s, project_id, {'network': 1})
        ntype, physnet, seg = _provider(s, values, external)
        mtu = values.get('mtu') or (1500 if external else CONF.network.network_mtu)
        now = utcnow()
        net = nm.Network(
            id=new_id(), project_id=project_id, name=values.get('name') or '',
            description=values.get('description') or '',
            admin_state_up=values.get('admin_state_up', True),
            shared=bool(values.get('shared', False)), external=external,
            is_default=bool(values.get('is_default', False)), mtu=mtu,
            port_security_enabled=values.get('port_security_enabled', True),
            network_type=ntype, physical_network=physnet, segmentation_id=seg,
            availability_zone_hints=list(values.get('availability_zone_hints') or []),
            tags=list(values.get('tags') or []), dns_domain=values.get('dns_domain') or '',
            revision_number=1, created_at=now, updated_at=now)
        s.add(net)
        s.flush()
        return network_dict(net, [])


_NET_FIELDS = {'name': 'name', 'description': 'description', 'admin_state_up': 'admin_state_up',
               'shared': 'shared', 'router:external': 'external', 'mtu': 'mtu',
               'port_security_enabled': 'port_security_enabled', 'is_default': 'is_default',
               'tags': 'tags', 'dns_domain': 'dns_domain'}


def update_network(ctx, net_id, values):
    with db_api.session() as s:
        net = find_network(s, ctx, net_id)
        if 'shared' in values and not values['shared'] and net.shared:
            others = s.scalar(sa.select(nm.Port.id).where(
                nm.Port.network_id == net.id, nm.Port.project_id != net.project_id,
                nm.Port.device_owner != DHCP_OWNER).limit(1))
            if others is not None:
                raise exception.Conflict(
                    'Unable to reconfigure sharing settings for network %s. Multiple '
                    'tenants are using it.' % net.id)
        for key, attr in _NET_FIELDS.items():
            if key in values:
                value = values[key]
                setattr(net, attr, list(value) if isinstance(value, list) else value)
        touch(net)
        s.flush()
        return network_dict(net, _subnet_ids(s, [net.id])[net.id])


def delete_network(ctx, net_id):
    """Delete a network with its subnets and DHCP ports; 409 while other
    ports or floating IPs use it. Returns the hosts whose DHCP port went."""
    with db_api.session() as s:
        net = find_network(s, ctx, net_id)
        busy = s.scalar(sa.select(nm.Port.id).where(
            nm.Port.network_id == net.id, nm.Port.device_owner != DHCP_OWNER).limit(1))
        fip = s.scalar(sa.select(nm.FloatingIP.id).where(
            nm.FloatingIP.floating_network_id == net.id).limit(1))
        if busy is not None or fip is not None:
            raise ne.NetworkInUse(net_id=net.id)
        dhcp = list(s.scalars(sa.select(nm.Port).where(nm.Port.network_id == net.id)))
        hosts = {p.host for p in dhcp if p.host}
        for port in dhcp:
            s.delete(port)
        s.flush()
        s.execute(sa.delete(nm.Subnet).where(nm.Subnet.network_id == net.id))
        s.delete(net)
    return hosts


# --- subnets -----------------------------------------------------------------

def find_subnet(s, ctx, subnet_id):
    """The subnet row ``ctx`` may see and its network's, or SubnetNotFound."""
    q = sa.select(nm.Subnet, nm.Network).join(
        nm.Network, nm.Network.id == nm.Subnet.network_id).where(
        nm.Subnet.id == str(subnet_id), visible(ctx))
    return lookup.first(s, q, ne.SubnetNotFound(subnet_id=subnet_id))


def get_subnet(ctx, subnet_id):
    with db_api.reader() as s:
        return subnet_dict(find_subnet(s, ctx, subnet_id)[0])


def list_subnets(ctx, ids=None, network_ids=None, names=None):
    q = sa.select(nm.Subnet).join(nm.Network, nm.Network.id == nm.Subnet.network_id).where(
        visible(ctx))
    if ids:
        q = q.where(nm.Subnet.id.in_(ids))
    if network_ids:
        q = q.where(nm.Subnet.network_id.in_(network_ids))
    if names:
        q = q.where(nm.Subnet.name.in_(names))
    with db_api.reader() as s:
        return [subnet_dict(x) for x in s.scalars(q.order_by(nm.Subnet.created_at,
                                                               nm.Subnet.id))]


def _check_dhcp_prefix(net_cidr, enable_dhcp):
    if enable_dhcp and net_cidr.prefixlen > 30:
        raise ne.InvalidInput(error_message='Subnet has a prefix length that is incompatible '
                                            'with DHCP service enabled')


def _dhcp_ports(s, network_id):
    return list(s.scalars(sa.select(nm.Port).where(nm.Port.network_id == network_id,
                                                   nm.Port.device_owner == DHCP_OWNER)))


def give_dhcp_addresses(s, subnet):
    """Each DHCP port of the subnet's network gets an address on it (a
    full subnet leaves that port without one; DHCP is then not served there)."""
    for port in _dhcp_ports(s, subnet.network_id):
        if s.scalar(sa.select(nm.IPAllocation.ip_address).where(
                nm.IPAllocation.port_id == port.id,
                nm.IPAllocation.subnet_id == subnet.id)) is None:
            ipam.allocate(s, subnet, port_id=port.id)
            touch(port)


def _take_dhcp_addresses(s, subnet):
    for port in _dhcp_ports(s, subnet.network_id):
        gone = s.execute(sa.delete(nm.IPAllocation).where(
            nm.IPAllocation.port_id == port.id, nm.IPAllocation.subnet_id == subnet.id))
        if gone.rowcount:
            touch(port)


@retry_on_conflict
def create_subnet(ctx, values):
    """Make an IPv4 subnet from API values (network_id, cidr, ...)."""
    if values.get('ip_version', 4) != 4:
        raise ne.InvalidInput(error_message='IPv6 subnets are not supported; use ip_version 4')
    if not values.get('cidr'):
        if values.get('prefixlen') is not None or values.get('subnetpool_id'):
            raise ne.BadRequest(resource='subnets', msg='subnet pools are not supported; '
                                                        'give a cidr')
        raise ne.BadRequest(resource='subnets',
                            msg='a subnetpool must be specified in the absence of a cidr')
    cidr = ipam.parse_cidr(values['cidr'])
    enable_dhcp = values.get('enable_dhcp', True)
    _check_dhcp_prefix(cidr, enable_dhcp)
    gateway = ipam.check_gateway(cidr, values['gateway_ip']) if 'gateway_ip' in values \
        else ipam.default_gateway(cidr)
    if values.get('allocation_pools') is not None:
        pools = ipam.check_pools(cidr, values['allocation_pools'], gateway)
    else:
        pools = ipam.default_pools(cidr, gateway)
    dns = ipam.check_dns(values.get('dns_nameservers'))
    routes = ipam.check_routes(values.get('host_routes'))
    project_id = values.get('project_id') or ctx.project_id
    with db_api.session() as s:
        net = find_network(s, ctx, values['network_id'])
        if not lookup.is_admin(ctx) and net.project_id != ctx.project_id:
            raise ne.policy_error('create_subnet')
        for other in s.scalars(sa.select(nm.Subnet.cidr).where(
                nm.Subnet.network_id == net.id)):
            if ipam.parse_cidr(other).overlaps(cidr):
                raise ne.InvalidInput(error_message='Requested subnet with cidr: %s for '
                                                    'network: %s overlaps with another subnet'
                                                    % (cidr, net.id))
        netquota.check(s, project_id, {'subnet': 1})
        now = utcnow()
        sub = nm.Subnet(id=new_id(), network_id=net.id, project_id=project_id,
                        name=values.get('name') or '',
                        description=values.get('description') or '', ip_version=4,
                        cidr=str(cidr), gateway_ip=gateway, enable_dhcp=enable_dhcp,
                        allocation_pools=pools, dns_nameservers=dns, host_routes=routes,
                        tags=list(values.get('tags') or []), revision_number=1,
                        created_at=now, updated_at=now)
        s.add(sub)
        s.flush()
        if enable_dhcp:
            give_dhcp_addresses(s, sub)
        return subnet_dict(sub)


def update_subnet(ctx, subnet_id, values):
    with db_api.session() as s:
        sub, _net = find_subnet(s, ctx, subnet_id)
        cidr = ipam.parse_cidr(sub.cidr)
        if 'gateway_ip' in values:
            gateway = ipam.check_gateway(cidr, values['gateway_ip'])
            if gateway and gateway != sub.gateway_ip:
                holder = s.get(nm.IPAllocation, (sub.id, gateway))
                if holder is not None:
                    raise ne.IpAddressAlreadyAllocated(ip=gateway, subnet_id=sub.id)
            sub.gateway_ip = gateway
        if values.get('allocation_pools') is not None:
            sub.allocation_pools = ipam.check_pools(cidr, values['allocation_pools'],
                                                    sub.gateway_ip)
        elif 'gateway_ip' in values:
            ipam.check_pools(cidr, sub.allocation_pools, sub.gateway_ip)
        if 'dns_nameservers' in values:
            sub.dns_nameservers = ipam.check_dns(values['dns_nameservers'])
        if 'host_routes' in values:
            sub.host_routes = ipam.check_routes(values['host_routes'])
        for key in ('name', 'description'):
            if key in values:
                setattr(sub, key, values[key] or '')
        if 'tags' in values:
            sub.tags = list(values['tags'])
        if 'enable_dhcp' in values and values['enable_dhcp'] != sub.enable_dhcp:
            _check_dhcp_prefix(cidr, values['enable_dhcp'])
            sub.enable_dhcp = values['enable_dhcp']
            if sub.enable_dhcp:
                give_dhcp_addresses(s, sub)
            else:
                _take_dhcp_addresses(s, sub)
        touch(sub)
        s.flush()
        return subnet_dict(sub)


def delete_subnet(ctx, subnet_id):
    """Delete a subnet; 409 while a port (other than DHCP) or a floating IP
    holds one of its addresses."""
    with db_api.session() as s:
        sub, _net = find_subnet(s, ctx, subnet_id)
        busy = s.execute(sa.select(nm.IPAllocation.ip_address).outerjoin(
            nm.Port, nm.Port.id == nm.IPAllocation.port_id).where(
            nm.IPAllocation.subnet_id == sub.id,
            sa.or_(nm.IPAllocation.floatingip_id.is_not(None),
                   nm.Port.device_owner != DHCP_OWNER)).limit(1)).first()
        if busy is not None:
            raise ne.SubnetInUse(subnet_id=sub.id)
        _take_dhcp_addresses(s, sub)
        s.delete(sub)
