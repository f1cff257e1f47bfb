"""Router records: create, list, show, update, delete; the external gateway
(a 'network:router_gateway' port on an external network, with enable_snat)
and static routes (extraroute), with Neutron's rules:

- a router is its project's (others get 404; admins see all);
- the gateway's network must be external; only an admin turns SNAT off or
  asks for a specific gateway address;
- a gateway that floating IPs need cannot be removed or moved;
- a route's nexthop lies in a subnet of one of the router's ports and is
  not one of the router's own addresses;
- a router with interfaces cannot be deleted (RouterInUse).

Interfaces are in network/interfaces.py.
"""

import ipaddress

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import api as db_api
from common.db import network_models as nm
from common.db.models import utcnow
from network import exception as errors
from network import ipam
from network import lookup
from network import networks
from network import portcore
from network import quota as netquota
from network import snat

R, P, A = nm.Router, nm.Port, nm.IPAllocation
GW_OWNER = 'network:router_gateway'
INTERFACE_OWNER = 'network:router_interface'
OWNERS = (GW_OWNER, INTERFACE_OWNER, snat.OWNER)
MAX_ROUTES = 30  # Neutron's [DEFAULT] max_routes


# --- views -------------------------------------------------------------------

def _gateway_info(s, router):
    if not router.gw_port_id:
        return None
    port = s.get(P, router.gw_port_id)
    ips = portcore.ips_of(s, [port.id])[port.id]
    return {'network_id': port.network_id, 'enable_snat': router.enable_snat,
            'external_fixed_ips': [{'subnet_id': sub, 'ip_address': ip} for sub, ip in ips]}


def router_dict(s, router):
    return {
        'id': router.id, 'name': router.name, 'description': router.description,
        'tenant_id': router.project_id, 'project_id': router.project_id,
        'admin_state_up': router.admin_state_up, 'status': 'ACTIVE',
        'external_gateway_info': _gateway_info(s, router),
        'routes': [dict(r) for r in router.routes or []],
        'availability_zone_hints': [], 'availability_zones': [],
        'tags': list(router.tags or []), 'revision_number': router.revision_number,
        'created_at': nm.iso(router.created_at), 'updated_at': nm.iso(router.updated_at),
    }


# --- finding -----------------------------------------------------------------

def find_router(s, ctx, router_id):
    return lookup.find(s, ctx, R, router_id, errors.RouterNotFound(router_id=router_id))


def get_router(ctx, router_id):
    with db_api.reader() as s:
        return router_dict(s, find_router(s, ctx, router_id))


def list_routers(ctx, ids=None, names=None):
    q = sa.select(R).where(lookup.visible(ctx, R))
    if ids:
        q = q.where(R.id.in_(ids))
    if names:
        q = q.where(R.name.in_(names))
    with db_api.reader() as s:
        return [router_dict(s, r) for r in s.scalars(q.order_by(R.created_at, R.id))]


def router_ports(s, router_id, owner=None):
    q = sa.select(P).where(P.device_id == router_id, P.device_owner.in_(
        [owner] if owner else OWNERS))
    return list(s.scalars(q.order_by(P.created_at, P.id)))


def interface_subnets(s, router_id):
    """{subnet id: port id} of the router's interfaces."""
    rows = s.execute(sa.select(A.subnet_id, A.port_id).join(P, P.id == A.port_id).where(
        P.device_id == router_id, P.device_owner == INTERFACE_OWNER))
    return {sub: port for sub, port in rows}


def fips_through(s, router, subnet_ids=None):
    """Floating IPs on the router's external network NATed to an address
    of its interface subnets (of ``subnet_ids`` only, when given)."""
    if not router.gw_port_id:
        return []
    ext_net = s.get(P, router.gw_port_id).network_id
    subs = list(interface_subnets(s, router.id))
    if subnet_ids is not None:
        subs = [x for x in subs if x in subnet_ids]
    if not subs:
        return []
    return list(s.scalars(sa.select(nm.FloatingIP).join(A, sa.and_(
        A.port_id == nm.FloatingIP.port_id,
        A.ip_address == nm.FloatingIP.fixed_ip_address)).where(
        nm.FloatingIP.floating_network_id == ext_net, A.subnet_id.in_(subs))))


def router_for(s, subnet_id, ext_net_id):
    """The id of a router with an interface on ``subnet_id`` and its
    gateway on ``ext_net_id``, or None: the way a floating IP takes."""
    itf, gw = orm.aliased(P), orm.aliased(P)
    return s.scalar(sa.select(R.id).join(gw, gw.id == R.gw_port_id).join(
        itf, sa.and_(itf.device_id == R.id, itf.device_owner == INTERFACE_OWNER)).join(
        A, A.port_id == itf.id).where(
        A.subnet_id == subnet_id, gw.network_id == ext_net_id).order_by(
        R.created_at, R.id).limit(1))


# --- gateway -----------------------------------------------------------------

_GW_KEYS = ('network_id', 'enable_snat', 'external_fixed_ips')


def parse_gateway(value):
    """external_gateway_info from a request: None (no gateway) or a dict."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise errors.HTTPBadRequest(msg="Invalid input for external_gateway_info. Reason: '%s' "
                                    'is not a dictionary.' % (value,))
    unknown = sorted(set(value) - set(_GW_KEYS))
    if unknown:
        raise errors.HTTPBadRequest(msg="Invalid input for external_gateway_info. Reason: "
                                    "Unrecognized keys %s." % ', '.join(unknown))
    if not value.get('network_id'):
        raise errors.HTTPBadRequest(msg="Invalid input for external_gateway_info. Reason: "
                                    "network_id is required.")
    fixed = value.get('external_fixed_ips')
    if fixed is not None and not isinstance(fixed, list):
        raise errors.HTTPBadRequest(msg="Invalid input for external_fixed_ips. Reason: '%s' is "
                                    'not a list.' % (fixed,))
    return dict(value)


def _make_gateway(s, ctx, router, info):
    net = networks.find_network(s, ctx, info['network_id'])
    if not net.external:
        raise errors.bad_router('Network %s is not an external network' % net.id)
    port = portcore.create_in(
        s, ctx, net, {'device_owner': GW_OWNER, 'device_id': router.id,
                      'fixed_ips': info.get('external_fixed_ips'),
                      'port_security_enabled': False, 'security_groups': []},
        '', admin=True, quota=False)
    if not portcore.ips_of(s, [port.id])[port.id]:
        raise errors.bad_router('Network %s does not contain any IPv4 subnet' % net.id)
    router.gw_port_id = port.id


def _drop_gateway(s, router):
    port = s.get(P, router.gw_port_id)
    if fips_through(s, router):
        raise errors.RouterExternalGatewayInUseByFloatingIp(router_id=router.id,
                                                            net_id=port.network_id)
    router.gw_port_id = None
    s.flush()
    portcore.delete_in(s, port)


def set_gateway(s, ctx, router, info):
    """Apply a parsed external_gateway_info to ``router``."""
    current = s.get(P, router.gw_port_id) if router.gw_port_id else None
    if info is None:
        if current is not None:
            _drop_gateway(s, router)
        router.enable_snat = True
        sync_snat(s, ctx, router)
        return
    if current is not None and current.network_id != info['network_id']:
        _drop_gateway(s, router)
        current = None
    if current is None:
        _make_gateway(s, ctx, router, info)
    elif info.get('external_fixed_ips') is not None:
        portcore.update_in(s, ctx, current, {'fixed_ips': info['external_fixed_ips']})
    if 'enable_snat' in info:
        router.enable_snat = bool(info['enable_snat'])
    elif current is None:
        router.enable_snat = True
    sync_snat(s, ctx, router)


def sync_snat(s, ctx, router):
    """The router's centralized SNAT ports (network/snat.py): one per IPv4
    interface subnet while it has a gateway with enable_snat, else none.
    Returns the hosts they were and are bound to."""
    s.flush()
    subs = list(interface_subnets(s, router.id)) \
        if router.gw_port_id and router.enable_snat else []
    return snat.sync(s, ctx, router, subs)


# --- routes ------------------------------------------------------------------

def parse_routes(value):
    """Neutron's 'routes': [{'destination': cidr, 'nexthop': ip}], unique."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidRoutes(routes=value, reason='routes must be a list')
    out = []
    for route in value:
        if not isinstance(route, dict) or set(route) != {'destination', 'nexthop'}:
            raise errors.InvalidRoutes(routes=value, reason='each route needs destination '
                                                            'and nexthop')
        try:
            dest = str(ipaddress.ip_network(str(route['destination']), strict=False))
            hop = str(ipaddress.ip_address(str(route['nexthop'])))
        except ValueError as e:
            raise errors.InvalidRoutes(routes=value, reason=str(e)) from None
        entry = {'destination': dest, 'nexthop': hop}
        if entry not in out:
            out.append(entry)
    return out


def check_routes(s, router, routes):
    """Every nexthop in a subnet of the router's ports and not its own."""
    if len(routes) > MAX_ROUTES:
        raise errors.RoutesExhausted(router_id=router.id, quota=MAX_ROUTES)
    ports = router_ports(s, router.id)
    ips = portcore.ips_of(s, [p.id for p in ports])
    held = [(sub, ip) for p in ports for sub, ip in ips[p.id]]
    cidrs = [ipam.subnet_net(s.get(nm.Subnet, sub)) for sub in {h[0] for h in held}]
    own = {ip for _sub, ip in held}
    for route in routes:
        hop = ipaddress.ip_address(route['nexthop'])
        if not any(hop in c for c in cidrs):
            raise errors.InvalidRoutes(routes=[route],
                                       reason='the nexthop is not connected with router')
        if route['nexthop'] in own:
            raise errors.InvalidRoutes(routes=[route], reason='the nexthop is used by router')


# --- create / update / delete ------------------------------------------------

@networks.retry_on_conflict
def create_router(ctx, values):
    project_id = values.get('project_id') or ctx.project_id
    with db_api.session() as s:
        netquota.check(s, project_id, {'router': 1})
        now = utcnow()
        router = R(id=networks.new_id(), project_id=project_id, name=values.get('name') or '',
                   description=values.get('description') or '',
                   admin_state_up=values.get('admin_state_up', True), enable_snat=True,
                   routes=[], tags=list(values.get('tags') or []), revision_number=1,
                   created_at=now, updated_at=now)
        s.add(router)
        s.flush()
        if values.get('external_gateway_info') is not None:
            set_gateway(s, ctx, router, values['external_gateway_info'])
        s.flush()
        return router_dict(s, router)


@networks.retry_on_conflict
def update_router(ctx, router_id, values):
    with db_api.session() as s:
        router = find_router(s, ctx, router_id)
        for key in ('name', 'description'):
            if key in values:
                setattr(router, key, values[key] or '')
        if 'admin_state_up' in values:
            router.admin_state_up = values['admin_state_up']
        if 'tags' in values:
            router.tags = list(values['tags'])
        if 'external_gateway_info' in values:
            set_gateway(s, ctx, router, values['external_gateway_info'])
            s.flush()
        if 'routes' in values:
            check_routes(s, router, values['routes'])
            router.routes = values['routes']
        elif 'external_gateway_info' in values:
            check_routes(s, router, router.routes or [])
        networks.touch(router)
        s.flush()
        return router_dict(s, router)


def change_routes(ctx, router_id, routes, add):
    """extraroute-atomic: add routes to or remove them from the router's."""
    with db_api.session() as s:
        router = find_router(s, ctx, router_id)
        current = [dict(r) for r in router.routes or []]
        if add:
            new = current + [r for r in routes if r not in current]
            check_routes(s, router, new)
        else:
            new = [r for r in current if r not in routes]
        router.routes = new
        networks.touch(router)
        s.flush()
        return router_dict(s, router)


def delete_router(ctx, router_id):
    with db_api.session() as s:
        router = find_router(s, ctx, router_id)
        if router_ports(s, router.id, INTERFACE_OWNER):
            raise errors.RouterInUse(router_id=router.id)
        if router.gw_port_id:
            _drop_gateway(s, router)
        sync_snat(s, ctx, router)
        s.delete(router)


def check_port_delete(port):
    """The port API may not delete a router's leg (ServicePortInUse)."""
    if port['device_owner'] not in OWNERS or not port['device_id']:
        return
    with db_api.reader() as s:
        if s.get(R, port['device_id']) is None:
            return
    raise errors.ServicePortInUse(port_id=port['id'],
                                  reason='has device owner %s' % port['device_owner'])
