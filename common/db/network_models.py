"""Network tables (Neutron v2.0 subset), owned by the API service.

networks -> subnets -> ip_allocations <- ports, floatingips
security_groups -> security_group_rules; ports <-> security_groups
(port_security_groups); default_security_groups names each project's
'default' group; network_quotas holds per-project limits that differ from
the [network] quota_* defaults; routers own ports (device_id) as their legs.

Every IP address handed out on a subnet, to a port or to a floating IP, is
one ip_allocations row whose primary key is (subnet_id, ip_address): two
requests racing for the same address cannot both win. A floating IP keeps
its address as an allocation on the external subnet.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow


def iso(when):
    """Neutron's timestamp format: 2026-11-26T22:00:00Z."""
    return when.strftime('%Y-%m-%dT%H:%M:%SZ') if when else None


def _id():
    return orm.mapped_column(sa.String(36), primary_key=True)


def _str(length=255, default=''):
    return orm.mapped_column(sa.String(length), default=default)


class Network(Base):
    __tablename__ = 'networks'
    __table_args__ = (
        sa.UniqueConstraint('segmentation_id', name='uniq_networks_segmentation_id'),
        sa.Index('ix_networks_project_id', 'project_id'),
    )
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str] = _str()
    description: orm.Mapped[str] = _str()
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    shared: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    external: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_default: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    mtu: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    network_type: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    physical_network: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    segmentation_id: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    availability_zone_hints: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    dns_domain: orm.Mapped[str] = _str()  # dns-integration ('' for none)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Subnet(Base):
    __tablename__ = 'subnets'
    __table_args__ = (sa.Index('ix_subnets_network_id', 'network_id'),)
    id: orm.Mapped[str] = _id()
    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('networks.id', ondelete='CASCADE'))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str] = _str()
    description: orm.Mapped[str] = _str()
    ip_version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=4)
    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    gateway_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    enable_dhcp: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    # [{'start': ip, 'end': ip}], [ip], [{'destination': cidr, 'nexthop': ip}]
    allocation_pools: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    dns_nameservers: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    host_routes: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Port(Base):
    __tablename__ = 'ports'
    __table_args__ = (
        sa.UniqueConstraint('network_id', 'mac_address', name='uniq_ports_network_mac'),
        sa.Index('ix_ports_network_id', 'network_id'),
        sa.Index('ix_ports_device_id', 'device_id'),
        sa.Index('ix_ports_host', 'host'),
        sa.Index('ix_ports_project_id', 'project_id'),
    )
    id: orm.Mapped[str] = _id()
    network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('networks.id', ondelete='CASCADE'))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str] = _str()
    description: orm.Mapped[str] = _str()
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    device_id: orm.Mapped[str] = _str()
    device_owner: orm.Mapped[str] = _str()
    # binding:host_id (None when unbound), binding:vnic_type, binding:profile
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    vnic_type: orm.Mapped[str] = _str(64, 'normal')
    binding_profile: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    allowed_address_pairs: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    extra_dhcp_opts: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    dns_name: orm.Mapped[str] = _str()
    # False for ports a server made for itself (deleted with it); True for
    # ports a user made and handed to a server (only unbound when it goes).
    preserve_on_delete: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    # Position among its server's NICs (network_info order).
    device_index: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class SecurityGroup(Base):
    __tablename__ = 'security_groups'
    __table_args__ = (sa.Index('ix_security_groups_project_id', 'project_id'),)
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str] = _str()
    description: orm.Mapped[str] = _str()
    stateful: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class DefaultSecurityGroup(Base):
    """Each project's 'default' group (one per project: the primary key)."""
    __tablename__ = 'default_security_groups'
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('security_groups.id', ondelete='CASCADE'))


class SecurityGroupRule(Base):
    __tablename__ = 'security_group_rules'
    __table_args__ = (
        sa.Index('ix_security_group_rules_group', 'security_group_id'),
        sa.Index('ix_security_group_rules_remote_group', 'remote_group_id'),
    )
    id: orm.Mapped[str] = _id()
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('security_groups.id', ondelete='CASCADE'))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    port_range_min: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    port_range_max: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('security_groups.id', ondelete='CASCADE'))
    description: orm.Mapped[str] = _str()
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class PortSecurityGroup(Base):
    """A port's groups. A group in use cannot be deleted (no cascade)."""
    __tablename__ = 'port_security_groups'
    __table_args__ = (sa.Index('ix_port_security_groups_group', 'security_group_id'),)
    port_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('ports.id', ondelete='CASCADE'), primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('security_groups.id'), primary_key=True)


class FloatingIP(Base):
    __tablename__ = 'floatingips'
    __table_args__ = (
        sa.UniqueConstraint('floating_network_id', 'floating_ip_address',
                            name='uniq_floatingips_network_address'),
        sa.UniqueConstraint('floating_network_id', 'port_id', 'fixed_ip_address',
                            name='uniq_floatingips_network_port_fixed'),
        sa.Index('ix_floatingips_project_id', 'project_id'),
        sa.Index('ix_floatingips_port_id', 'port_id'),
    )
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    floating_network_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('networks.id'))
    floating_ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('ports.id', ondelete='SET NULL'))
    fixed_ip_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    description: orm.Mapped[str] = _str()
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    dns_name: orm.Mapped[str] = _str()  # dns-integration, set at create ('' for none)
    dns_domain: orm.Mapped[str] = _str()
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class IPAllocation(Base):
    """One address of a subnet, held by a port or by a floating IP."""
    __tablename__ = 'ip_allocations'
    __table_args__ = (
        sa.Index('ix_ip_allocations_port_id', 'port_id'),
        sa.Index('ix_ip_allocations_floatingip_id', 'floatingip_id'),
        sa.Index('ix_ip_allocations_network_id', 'network_id'),
    )
    subnet_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('subnets.id', ondelete='CASCADE'), primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('ports.id', ondelete='CASCADE'))
    floatingip_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('floatingips.id', ondelete='CASCADE'))


class NetworkQuota(Base):
    """A project's limit on one network resource, where it differs from the default."""
    __tablename__ = 'network_quotas'
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class Router(Base):
    """A Neutron router. Its legs are ports whose device_id is the router's
    id: 'network:router_interface' on its subnets (each holding a subnet's
    gateway address, or the address of the port handed to it) and one
    'network:router_gateway' on the external network (gw_port_id)."""
    __tablename__ = 'routers'
    __table_args__ = (sa.Index('ix_routers_project_id', 'project_id'),)
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str] = _str()
    description: orm.Mapped[str] = _str()
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    gw_port_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('ports.id', ondelete='SET NULL'))
    enable_snat: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    # [{'destination': cidr, 'nexthop': ip}] (extraroute)
    routes: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    tags: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
