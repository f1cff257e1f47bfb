"""Bootstrap networking (idempotent): the external network for floating IPs
([network] public_network_name / public_cidr, owned by the admin project),
the shared tenant network servers land on with networks "auto"
([network] private_network_name / private_cidr), and the router between
them ([network] private_router_name, devstack's router1: gateway on public,
an interface on private's subnet)."""

import ipaddress

import sqlalchemy as sa

from common.conf import CONF
from common.context import RequestContext
from common.db import api as db_api
from common.db import models
from common.db import network_models as nm
from network import interfaces
from network import networks
from network import routers


def _public_pool(cidr):
    """From .10 (or the upper half of a small range) to the last address."""
    net = ipaddress.ip_network(cidr, strict=False)
    first = net.network_address + 1
    last = net.broadcast_address - 1
    start = first + 9 if net.num_addresses >= 64 else first + (net.num_addresses - 2) // 2
    return [{'start': str(max(start, first + 1)), 'end': str(last)}]


def _network(ctx, name, **values):
    with db_api.reader() as s:
        net = s.scalars(sa.select(nm.Network).where(
            nm.Network.name == name, nm.Network.project_id == ctx.project_id)).first()
        has_subnet = net is not None and s.scalar(sa.select(nm.Subnet.id).where(
            nm.Subnet.network_id == net.id).limit(1)) is not None
    if net is None:
        net_id = networks.create_network(ctx, dict(values, name=name))['id']
    else:
        net_id = net.id
    return net_id, has_subnet


def admin_project_id():
    """The id of the 'admin' project of the Default domain (identity bootstrap)."""
    with db_api.reader() as s:
        return s.scalar(sa.select(models.Project.id).where(
            models.Project.name == 'admin', models.Project.domain_id == 'default'))


def _router(ctx, public_id, private_id):
    """The router from private to public, made once (an existing one of that
    name is left as it is)."""
    name = CONF.network.private_router_name
    with db_api.reader() as s:
        found = s.scalar(sa.select(nm.Router.id).where(
            nm.Router.name == name, nm.Router.project_id == ctx.project_id))
        subnet_id = s.scalar(sa.select(nm.Subnet.id).where(
            nm.Subnet.network_id == private_id).order_by(nm.Subnet.created_at).limit(1))
    if found is not None or subnet_id is None:
        return
    router = routers.create_router(ctx, {'name': name,
                                         'external_gateway_info': {'network_id': public_id}})
    interfaces.add_interface(ctx, router['id'], {'subnet_id': subnet_id})


def bootstrap(admin_project_id):
    """Make the public (external) and private (shared) networks and the
    router between them if missing."""
    ctx = RequestContext(project_id=admin_project_id, roles=['admin'], is_admin=True)
    public_id, has_subnet = _network(ctx, CONF.network.public_network_name,
                                     **{'router:external': True, 'shared': False})
    if not has_subnet:
        cidr = str(ipaddress.ip_network(CONF.network.public_cidr, strict=False))
        networks.create_subnet(ctx, {
            'network_id': public_id, 'name': CONF.network.public_network_name + '-subnet',
            'ip_version': 4, 'cidr': cidr, 'enable_dhcp': False,
            'allocation_pools': _public_pool(cidr)})
    net_id, has_subnet = _network(ctx, CONF.network.private_network_name, shared=True)
    if not has_subnet:
        networks.create_subnet(ctx, {
            'network_id': net_id, 'name': CONF.network.private_network_name + '-subnet',
            'ip_version': 4, 'cidr': CONF.network.private_cidr, 'enable_dhcp': True})
    _router(ctx, public_id, net_id)
