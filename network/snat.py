"""Centralized SNAT ports, as Neutron's distributed routers have them: one
'network:router_centralized_snat' port per IPv4 interface subnet of a
router whose external gateway has enable_snat, holding an address of its
own from the subnet and a MAC of its own, project '' (only admins see it,
like the gateway port), device_id the router's id, bound
(binding:host_id) to the host that serves SNAT: the oldest compute node
whose agent reports [network] external_gateway (its external bridge holds
the public gateway).

That host puts each port's address and MAC on a leg of its router
namespace on the subnet's bridge and SNATs what arrives there; the other
hosts running the router send traffic of their guests without a floating
IP that leaves the router's subnets to that address (compute/network/
router.py). The ports follow the router: made when an interface is added
to a router with a gateway, or a gateway (with SNAT) is set; removed when
the interface or the gateway goes or SNAT is turned off.
"""

import sqlalchemy as sa

from common.db import api as db_api
from common.db import compute_models as cm
from common.db import network_models as nm
from network import portcore
from network import state as netstate

P = nm.Port
OWNER = 'network:router_centralized_snat'


def snat_host(s):
    """The host that serves centralized SNAT, or None (no agent reported
    an external gateway yet)."""
    return s.scalar(sa.select(cm.ComputeNode.host).where(
        cm.ComputeNode.external_gateway.is_(True)).order_by(
        cm.ComputeNode.created_at, cm.ComputeNode.id).limit(1))


def ports_of(s, router_id):
    """{subnet id: port} of the router's centralized SNAT ports."""
    ports = list(s.scalars(sa.select(P).where(P.device_id == router_id,
                                              P.device_owner == OWNER)))
    ips = portcore.ips_of(s, [p.id for p in ports])
    return {sub: p for p in ports for sub, _ip in ips[p.id]}


def sync(s, ctx, router, subnet_ids):
    """One port per IPv4 subnet of ``subnet_ids`` (the router's interface
    subnets while it SNATs, else none), none for any other subnet. Returns
    the hosts the ports were bound to before and after (to refresh)."""
    have = ports_of(s, router.id)
    wanted = [x for x in subnet_ids
              if (sub := s.get(nm.Subnet, x)) is not None and sub.ip_version == 4]
    hosts = set()
    for sub_id, port in have.items():
        if sub_id not in wanted:
            hosts.add(port.host)
            portcore.delete_in(s, port)
    host = None
    for sub_id in wanted:
        if sub_id in have:
            continue
        sub = s.get(nm.Subnet, sub_id)
        host = host or snat_host(s)
        portcore.create_in(
            s, ctx, s.get(nm.Network, sub.network_id),
            {'device_owner': OWNER, 'device_id': router.id, 'name': '',
             'admin_state_up': True, 'fixed_ips': [{'subnet_id': sub_id}],
             'binding:host_id': host, 'port_security_enabled': False,
             'security_groups': []}, '', admin=True, quota=False)
        hosts.add(host)
    s.flush()
    return {h for h in hosts if h}


def rebind():
    """Bind every centralized SNAT port to the current SNAT host (a host
    reported a change of its external gateway), making the ports that
    routers with a gateway lack (a database older than them). Returns the
    hosts that must hear of it."""
    from network import routers  # routers uses this module
    all_ports = sa.select(P.id).where(P.device_owner == OWNER)
    with db_api.session() as s:
        before = set(s.scalars(all_ports))
        hosts = set()
        for router in s.scalars(sa.select(nm.Router).where(
                nm.Router.gw_port_id.is_not(None), nm.Router.enable_snat.is_(True))):
            hosts |= routers.sync_snat(s, None, router)
        host = snat_host(s)
        moved = list(s.scalars(sa.select(P).where(
            P.device_owner == OWNER, sa.or_(P.host.is_(None), P.host != host)
            if host else P.host.is_not(None))))
        hosts |= {p.host for p in moved if p.host}
        for port in moved:
            port.host = host
        s.flush()
        ids = {p.id for p in moved} | (set(s.scalars(all_ports)) - before)
    if not ids:
        return hosts
    return hosts | netstate.hosts_for_port_networks(list(ids))
