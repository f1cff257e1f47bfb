"""Networks: networks, subnets, ports, IP allocations, security groups and
rules, floating IPs, network quotas.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _std():
    """description, tags, revision_number, created_at, updated_at."""
    return [sa.Column('revision_number', sa.Integer, nullable=False),
            sa.Column('created_at', DateTime, nullable=False),
            sa.Column('updated_at', DateTime, nullable=False)]


def upgrade():
    op.create_table(
        'networks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('admin_state_up', sa.Boolean, nullable=False),
        sa.Column('shared', sa.Boolean, nullable=False),
        sa.Column('external', sa.Boolean, nullable=False),
        sa.Column('is_default', sa.Boolean, nullable=False),
        sa.Column('mtu', sa.Integer, nullable=False),
        sa.Column('port_security_enabled', sa.Boolean, nullable=False),
        sa.Column('network_type', sa.String(16), nullable=False),
        sa.Column('physical_network', sa.String(64)),
        sa.Column('segmentation_id', sa.Integer),
        sa.Column('availability_zone_hints', sa.JSON, nullable=False),
        sa.Column('tags', sa.JSON, nullable=False),
        *_std(),
        sa.UniqueConstraint('segmentation_id', name='uniq_networks_segmentation_id'))
    op.create_index('ix_networks_project_id', 'networks', ['project_id'])

    op.create_table(
        'subnets',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('network_id', sa.String(36),
                  sa.ForeignKey('networks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('ip_version', sa.Integer, nullable=False),
        sa.Column('cidr', sa.String(64), nullable=False),
        sa.Column('gateway_ip', sa.String(64)),
        sa.Column('enable_dhcp', sa.Boolean, nullable=False),
        sa.Column('allocation_pools', sa.JSON, nullable=False),
        sa.Column('dns_nameservers', sa.JSON, nullable=False),
        sa.Column('host_routes', sa.JSON, nullable=False),
        sa.Column('tags', sa.JSON, nullable=False),
        *_std())
    op.create_index('ix_subnets_network_id', 'subnets', ['network_id'])

    op.create_table(
        'ports',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('network_id', sa.String(36),
                  sa.ForeignKey('networks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('mac_address', sa.String(32), nullable=False),
        sa.Column('admin_state_up', sa.Boolean, nullable=False),
        sa.Column('device_id', sa.String(255), nullable=False),
        sa.Column('device_owner', sa.String(255), nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('vnic_type', sa.String(64), nullable=False),
        sa.Column('binding_profile', sa.JSON, nullable=False),
        sa.Column('port_security_enabled', sa.Boolean, nullable=False),
        sa.Column('allowed_address_pairs', sa.JSON, nullable=False),
        sa.Column('extra_dhcp_opts', sa.JSON, nullable=False),
        sa.Column('dns_name', sa.String(255), nullable=False),
        sa.Column('preserve_on_delete', sa.Boolean, nullable=False),
        sa.Column('device_index', sa.Integer),
        sa.Column('tags', sa.JSON, nullable=False),
        *_std(),
        sa.UniqueConstraint('network_id', 'mac_address', name='uniq_ports_network_mac'))
    op.create_index('ix_ports_network_id', 'ports', ['network_id'])
    op.create_index('ix_ports_device_id', 'ports', ['device_id'])
    op.create_index('ix_ports_host', 'ports', ['host'])
    op.create_index('ix_ports_project_id', 'ports', ['project_id'])

    op.create_table(
        'security_groups',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('stateful', sa.Boolean, nullable=False),
        sa.Column('tags', sa.JSON, nullable=False),
        *_std())
    op.create_index('ix_security_groups_project_id', 'security_groups', ['project_id'])

    op.create_table(
        'default_security_groups',
        sa.Column('project_id', sa.String(64), primary_key=True),
        sa.Column('security_group_id', sa.String(36),
                  sa.ForeignKey('security_groups.id', ondelete='CASCADE'), nullable=False))

    op.create_table(
        'security_group_rules',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('security_group_id', sa.String(36),
                  sa.ForeignKey('security_groups.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('direction', sa.String(16), nullable=False),
        sa.Column('ethertype', sa.String(8), nullable=False),
        sa.Column('protocol', sa.String(40)),
        sa.Column('port_range_min', sa.Integer),
        sa.Column('port_range_max', sa.Integer),
        sa.Column('remote_ip_prefix', sa.String(64)),
        sa.Column('remote_group_id', sa.String(36),
                  sa.ForeignKey('security_groups.id', ondelete='CASCADE')),
        sa.Column('description', sa.String(255), nullable=False),
        *_std())
    op.create_index('ix_security_group_rules_group', 'security_group_rules',
                    ['security_group_id'])
    op.create_index('ix_security_group_rules_remote_group', 'security_group_rules',
                    ['remote_group_id'])

    op.create_table(
        'port_security_groups',
        sa.Column('port_id', sa.String(36), sa.ForeignKey('ports.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('security_group_id', sa.String(36), sa.ForeignKey('security_groups.id'),
                  primary_key=True))
    op.create_index('ix_port_security_groups_group', 'port_security_groups',
                    ['security_group_id'])

    op.create_table(
        'floatingips',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('floating_network_id', sa.String(36), sa.ForeignKey('networks.id'),
                  nullable=False),
        sa.Column('floating_ip_address', sa.String(64), nullable=False),
        sa.Column('port_id', sa.String(36), sa.ForeignKey('ports.id', ondelete='SET NULL')),
        sa.Column('fixed_ip_address', sa.String(64)),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('tags', sa.JSON, nullable=False),
        *_std(),
        sa.UniqueConstraint('floating_network_id', 'floating_ip_address',
                            name='uniq_floatingips_network_address'),
        sa.UniqueConstraint('floating_network_id', 'port_id', 'fixed_ip_address',
                            name='uniq_floatingips_network_port_fixed'))
    op.create_index('ix_floatingips_project_id', 'floatingips', ['project_id'])
    op.create_index('ix_floatingips_port_id', 'floatingips', ['port_id'])

    op.create_table(
        'ip_allocations',
        sa.Column('subnet_id', sa.String(36), sa.ForeignKey('subnets.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('ip_address', sa.String(64), primary_key=True),
        sa.Column('network_id', sa.String(36), nullable=False),
        sa.Column('port_id', sa.String(36), sa.ForeignKey('ports.id', ondelete='CASCADE')),
        sa.Column('floatingip_id', sa.String(36),
                  sa.ForeignKey('floatingips.id', ondelete='CASCADE')))
    op.create_index('ix_ip_allocations_port_id', 'ip_allocations', ['port_id'])
    op.create_index('ix_ip_allocations_floatingip_id', 'ip_allocations', ['floatingip_id'])
    op.create_index('ix_ip_allocations_network_id', 'ip_allocations', ['network_id'])

    op.create_table(
        'network_quotas',
        sa.Column('project_id', sa.String(64), primary_key=True),
        sa.Column('resource', sa.String(64), primary_key=True),
        sa.Column('hard_limit', sa.Integer, nullable=False))
