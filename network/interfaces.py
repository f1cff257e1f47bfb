"""Router interfaces (add_router_interface / remove_router_interface), by
subnet or by port, with Neutron's rules:

- by subnet: a new 'network:router_interface' port holding the subnet's
  gateway address; the subnet must have one, and may be on the router
  once (a gateway another router holds is IpAddressAlreadyAllocated);
- by port: a port with no device, whose fixed addresses become the
  router's; none of their subnets may be on the router already;
- removal refuses while floating IPs or routes need the subnet, and the
  interface's port goes with it.

Both answer Neutron's interface info: id (the router's), tenant_id,
project_id, port_id, subnet_id, subnet_ids, network_id.
"""

import ipaddress

from common.db import api as db_api
from common.db import network_models as nm
from network import exception as errors
from network import ipam
from network import networks
from network import portcore
from network import routers


def _info(router, port, subnet_ids):
    return {'id': router.id, 'tenant_id': router.project_id,
            'project_id': router.project_id, 'port_id': port.id,
            'subnet_id': subnet_ids[0] if subnet_ids else None,
            'subnet_ids': list(subnet_ids), 'network_id': port.network_id}


def _interface_args(body):
    if not isinstance(body, dict):
        raise errors.bad_router('Either subnet_id or port_id must be specified')
    unknown = sorted(set(body) - {'subnet_id', 'port_id'})
    if unknown:
        raise errors.bad_router('Unrecognized attribute(s) %s' % ', '.join(unknown))
    return body.get('subnet_id'), body.get('port_id')


def _check_new_subnets(s, router, subnets):
    """No subnet twice on a router, and no two overlapping ones."""
    have = routers.interface_subnets(s, router.id)
    for sub in subnets:
        if sub.id in have:
            raise errors.bad_router('Router already has a port on subnet %s' % sub.id)
        new = ipam.subnet_net(sub)
        for other_id in have:
            other = s.get(nm.Subnet, other_id)
            if other.ip_version == sub.ip_version and new.overlaps(ipam.subnet_net(other)):
                raise errors.bad_router('Cidr %s of subnet %s overlaps with cidr %s of subnet '
                                        '%s' % (sub.cidr, sub.id, other.cidr, other.id))


def _by_subnet(s, ctx, router, subnet_id):
    sub, _net = networks.find_subnet(s, ctx, subnet_id)
    if not sub.gateway_ip:
        raise errors.bad_router('Subnet for router interface must have a gateway IP')
    _check_new_subnets(s, router, [sub])
    net = s.get(nm.Network, sub.network_id)
    port = portcore.create_in(
        s, ctx, net, {'device_owner': routers.INTERFACE_OWNER, 'device_id': router.id,
                      'fixed_ips': [{'subnet_id': sub.id, 'ip_address': sub.gateway_ip}],
                      'port_security_enabled': False, 'security_groups': []},
        sub.project_id, admin=True, quota=False)
    return port, [sub.id]


def _by_port(s, ctx, router, port_id):
    port = portcore.find_port(s, ctx, port_id)
    if port.device_id or port.device_owner:
        raise errors.PortInUse(port_id=port.id, net_id=port.network_id,
                               device_id=port.device_id or port.device_owner)
    ips = portcore.ips_of(s, [port.id])[port.id]
    if not ips:
        raise errors.bad_router('Router port must have at least one fixed IP')
    subnet_ids = list(dict.fromkeys(sub for sub, _ip in ips))
    _check_new_subnets(s, router, [s.get(nm.Subnet, x) for x in subnet_ids])
    port.device_owner, port.device_id = routers.INTERFACE_OWNER, router.id
    networks.touch(port)
    return port, subnet_ids


@networks.retry_on_conflict
def add_interface(ctx, router_id, body):
    subnet_id, port_id = _interface_args(body)
    if subnet_id and port_id:
        raise errors.bad_router('Cannot specify both subnet-id and port-id')
    if not subnet_id and not port_id:
        raise errors.bad_router('Either subnet_id or port_id must be specified')
    with db_api.session() as s:
        router = routers.find_router(s, ctx, router_id)
        if subnet_id:
            port, subnet_ids = _by_subnet(s, ctx, router, subnet_id)
        else:
            port, subnet_ids = _by_port(s, ctx, router, port_id)
        routers.sync_snat(s, ctx, router)
        networks.touch(router)
        s.flush()
        return _info(router, port, subnet_ids)


def _check_unused(s, router, subnet_ids):
    for sub_id in subnet_ids:
        if routers.fips_through(s, router, [sub_id]):
            raise errors.RouterInterfaceInUseByFloatingIP(subnet_id=sub_id, router_id=router.id)
        cidr = ipam.subnet_net(s.get(nm.Subnet, sub_id))
        if any(ipaddress.ip_address(r['nexthop']) in cidr for r in router.routes or []):
            raise errors.RouterInterfaceInUseByRoute(subnet_id=sub_id, router_id=router.id)


def remove_interface(ctx, router_id, body):
    subnet_id, port_id = _interface_args(body)
    if not subnet_id and not port_id:
        raise errors.bad_router('Either subnet_id or port_id must be specified')
    with db_api.session() as s:
        router = routers.find_router(s, ctx, router_id)
        have = routers.interface_subnets(s, router.id)
        if port_id:
            ports = [p for p in routers.router_ports(s, router.id, routers.INTERFACE_OWNER)
                     if p.id == port_id]
            if not ports:
                raise errors.RouterInterfaceNotFound(router_id=router.id, port_id=port_id)
            port = ports[0]
            if subnet_id and have.get(subnet_id) != port.id:
                raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id,
                                                              subnet_id=subnet_id)
        else:
            networks.find_subnet(s, ctx, subnet_id)
            if subnet_id not in have:
                raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id,
                                                              subnet_id=subnet_id)
            port = s.get(nm.Port, have[subnet_id])
        subnet_ids = [sub for sub, p in have.items() if p == port.id]
        _check_unused(s, router, subnet_ids)
        info = _info(router, port, subnet_ids)
        portcore.delete_in(s, port)
        routers.sync_snat(s, ctx, router)
        networks.touch(router)
        return info
