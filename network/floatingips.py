"""Floating IPs: addresses of an external network, each NATed to one fixed
IPv4 address of a port.

A port's address reaches the external network through a router with an
interface on the address's subnet and its gateway on that network
(network/routers.py router_for); that router is the floating IP's
router_id. A floating IP's address is an ip_allocations row on the
external subnet, so ports and floating IPs never share one.
"""

import ipaddress

import sqlalchemy as sa

from common.db import api as db_api
from common.db import network_models as nm
from common.db.models import utcnow
from network import exception as ne
from network import ipam
from network import lookup
from network import networks
from network import portcore
from network import quota as netquota
from network import routers

F = nm.FloatingIP


def port_details(port):
    if port is None:
        return None
    return {'name': port.name, 'network_id': port.network_id,
            'mac_address': port.mac_address, 'admin_state_up': port.admin_state_up,
            'status': portcore.status(port), 'device_id': port.device_id,
            'device_owner': port.device_owner}


def fip_dict(fip, port=None, router_id=None):
    return {
        'id': fip.id, 'tenant_id': fip.project_id, 'project_id': fip.project_id,
        'floating_ip_address': fip.floating_ip_address,
        'floating_network_id': fip.floating_network_id, 'router_id': router_id,
        'port_id': fip.port_id, 'fixed_ip_address': fip.fixed_ip_address,
        'status': 'ACTIVE' if fip.port_id else 'DOWN', 'description': fip.description,
        'tags': list(fip.tags or []), 'port_details': port_details(port),
        # no qos_policy_id: no QoS extension (qos, qos-fip) is announced
        'dns_domain': fip.dns_domain or '', 'dns_name': fip.dns_name or '',
        'port_forwardings': [],
        'created_at': nm.iso(fip.created_at), 'updated_at': nm.iso(fip.updated_at),
        'revision_number': fip.revision_number,
    }


def _dicts(s, fips):
    port_ids = [f.port_id for f in fips if f.port_id]
    ports = {}
    if port_ids:
        ports = {p.id: p for p in s.scalars(sa.select(nm.Port).where(nm.Port.id.in_(port_ids)))}
    return [fip_dict(f, ports.get(f.port_id), _router_id(s, f)) for f in fips]


def _fixed_subnet(s, port_id, ip):
    return s.scalar(sa.select(nm.IPAllocation.subnet_id).where(
        nm.IPAllocation.port_id == port_id, nm.IPAllocation.ip_address == ip))


def _router_id(s, fip):
    """The router a floating IP's traffic takes (None when not associated)."""
    if not fip.port_id or not fip.fixed_ip_address:
        return None
    return routers.router_for(s, _fixed_subnet(s, fip.port_id, fip.fixed_ip_address),
                              fip.floating_network_id)


def find_fip(s, ctx, fip_id):
    return lookup.find(s, ctx, F, fip_id, ne.FloatingIPNotFound(floatingip_id=fip_id))


def get_fip(ctx, fip_id):
    with db_api.reader() as s:
        return _dicts(s, [find_fip(s, ctx, fip_id)])[0]


def list_fips(ctx, ids=None, addresses=None, port_ids=None, network_ids=None):
    q = sa.select(F).where(lookup.visible(ctx, F))
    for col, values in ((F.id, ids), (F.floating_ip_address, addresses),
                        (F.port_id, port_ids), (F.floating_network_id, network_ids)):
        if values:
            q = q.where(col.in_(values))
    with db_api.reader() as s:
        return _dicts(s, list(s.scalars(q.order_by(F.created_at, F.id))))


def _bad(msg):
    return ne.BadRequest(resource='floatingip', msg=msg)


def _association(s, ctx, fip, port_id, fixed_ip):
    """Check that ``fip`` may be NATed to ``port_id`` (at ``fixed_ip``, or
    its only IPv4 address); returns the fixed address."""
    port = portcore.find_port(s, ctx, port_id)
    if port.project_id != fip.project_id and not lookup.is_admin(ctx):
        raise _bad('Cannot process floating IP association with Port %s, since that port is '
                   'owned by a different project' % port.id)
    if port.device_owner and not port.device_owner.startswith(portcore.COMPUTE_PREFIX):
        raise _bad('Port %s is unable to be assigned a floating IP' % port.id)
    ips = portcore.ips_of(s, [port.id])[port.id]
    if fixed_ip:
        ip = str(ipam.parse_ip(fixed_ip, 'fixed_ip_address'))
        match = [x for x in ips if x[1] == ip]
        if not match:
            raise _bad('Port %s does not have fixed ip %s' % (port.id, ip))
        subnet_id = match[0][0]
    else:
        if not ips:
            raise _bad('Cannot add floating IP to port %s that has no fixed IPv4 addresses'
                       % port.id)
        if len(ips) > 1:
            raise _bad('Port %s has multiple fixed IPv4 addresses.  Must provide a specific '
                       'IPv4 address when assigning a floating IP' % port.id)
        subnet_id, ip = ips[0]
    net = s.get(nm.Network, port.network_id)
    if net.external or routers.router_for(s, subnet_id, fip.floating_network_id) is None:
        raise ne.ExternalGatewayForFloatingIPNotFound(
            external_network_id=fip.floating_network_id, subnet_id=subnet_id, port_id=port.id)
    other = s.scalars(sa.select(F).where(F.floating_network_id == fip.floating_network_id,
                                         F.port_id == port.id, F.fixed_ip_address == ip,
                                         F.id != fip.id)).first()
    if other is not None:
        raise ne.FloatingIPPortAlreadyAssociated(
            floating_ip_address=fip.floating_ip_address, fip_id=fip.id, port_id=port.id,
            fixed_ip=ip, net_id=fip.floating_network_id)
    return ip


@networks.retry_on_conflict
def create_fip(ctx, values):
    """Allocate an address of an external network (the next free one, or
    ``floating_ip_address``), optionally associated at once."""
    project_id = values.get('project_id') or ctx.project_id
    if values.get('fixed_ip_address') and not values.get('port_id'):
        raise _bad('fixed_ip_address cannot be specified without a port_id')
    with db_api.session() as s:
        net = networks.find_network(s, ctx, values['floating_network_id'])
        if not net.external:
            raise _bad('Network %s is not a valid external network' % net.id)
        subnets = portcore.subnets_of(s, net.id)
        if not subnets:
            raise _bad('Network %s does not contain any IPv4 subnet' % net.id)
        if values.get('subnet_id'):
            subnets = [x for x in subnets if x.id == values['subnet_id']]
            if not subnets:
                raise ne.SubnetNotFound(subnet_id=values['subnet_id'])
        netquota.check(s, project_id, {'floatingip': 1})
        address = values.get('floating_ip_address')
        if address:
            address = str(ipam.parse_ip(address, 'floating_ip_address'))
            subnet = ipam.subnet_for_ip(subnets, address)
            if subnet is None:
                raise ne.InvalidIpForNetwork(ip_address=address)
            ipam.check_free(s, subnet, address)
        else:
            for subnet in subnets:
                address = ipam.next_free(s, subnet)
                if address:
                    break
            else:
                raise ne.IpAddressGenerationFailure(net_id=net.id)
        now = utcnow()
        fip = F(id=networks.new_id(), project_id=project_id, floating_network_id=net.id,
                floating_ip_address=address, description=values.get('description') or '',
                tags=list(values.get('tags') or []), dns_name=values.get('dns_name') or '',
                dns_domain=values.get('dns_domain') or '', revision_number=1,
                created_at=now, updated_at=now)
        s.add(fip)
        s.flush()
        ipam.allocate(s, subnet, address, floatingip_id=fip.id)
        if values.get('port_id'):
            fip.fixed_ip_address = _association(s, ctx, fip, values['port_id'],
                                                values.get('fixed_ip_address'))
            fip.port_id = values['port_id']
        s.flush()
        return _dicts(s, [fip])[0]


def update_fip(ctx, fip_id, values):
    """Associate (port_id, fixed_ip_address), disassociate (port_id None),
    describe. Returns (fip dict, port id it was on before)."""
    with db_api.session() as s:
        fip = find_fip(s, ctx, fip_id)
        before = fip.port_id
        if 'port_id' in values:
            if values['port_id']:
                fip.fixed_ip_address = _association(s, ctx, fip, values['port_id'],
                                                    values.get('fixed_ip_address'))
                fip.port_id = values['port_id']
            else:
                if values.get('fixed_ip_address'):
                    raise _bad('fixed_ip_address cannot be specified without a port_id')
                fip.port_id, fip.fixed_ip_address = None, None
        elif values.get('fixed_ip_address'):
            if not fip.port_id:
                raise _bad('fixed_ip_address cannot be specified without a port_id')
            fip.fixed_ip_address = _association(s, ctx, fip, fip.port_id,
                                                values['fixed_ip_address'])
        for key in ('description',):
            if key in values:
                setattr(fip, key, values[key] or '')
        if 'tags' in values:
            fip.tags = list(values['tags'])
        networks.touch(fip)
        s.flush()
        return _dicts(s, [fip])[0], before


def delete_fip(ctx, fip_id):
    """Release a floating IP; returns the port it was associated with, or None."""
    with db_api.session() as s:
        fip = find_fip(s, ctx, fip_id)
        port_id = fip.port_id
        s.delete(fip)
        return port_id


def sort_key(fip):
    return ipaddress.ip_address(fip['floating_ip_address'])
