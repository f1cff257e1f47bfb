"""Compute: flavors, key pairs, instances and their actions, compute nodes
and allocations (claims), quotas, server groups, aggregates.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'aggregates',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(length=36), nullable=False, unique=True),
        sa.Column('name', sa.String(length=255), nullable=False, unique=True),
        sa.Column('availability_zone', sa.String(length=255), nullable=True),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=True))
    op.create_table(
        'compute_nodes',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(length=36), nullable=False, unique=True),
        sa.Column('host', sa.String(length=255), nullable=False, unique=True),
        sa.Column('hypervisor_hostname', sa.String(length=255), nullable=False),
        sa.Column('hypervisor_type', sa.String(length=64), nullable=False),
        sa.Column('hypervisor_version', sa.Integer(), nullable=False),
        sa.Column('host_ip', sa.String(length=64), nullable=True),
        sa.Column('cpu_info', sa.Text(), nullable=True),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('memory_mb', sa.Integer(), nullable=False),
        sa.Column('local_gb', sa.Integer(), nullable=False),
        sa.Column('reserved_vcpus', sa.Integer(), nullable=False),
        sa.Column('reserved_memory_mb', sa.Integer(), nullable=False),
        sa.Column('reserved_disk_gb', sa.Integer(), nullable=False),
        sa.Column('vcpus_used', sa.Integer(), nullable=False),
        sa.Column('memory_mb_used', sa.Integer(), nullable=False),
        sa.Column('local_gb_used', sa.Integer(), nullable=False),
        sa.Column('disk_available_least', sa.Integer(), nullable=True),
        sa.Column('running_vms', sa.Integer(), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=True))
    op.create_table(
        'flavors',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('flavorid', sa.String(length=255), nullable=False, unique=True),
        sa.Column('name', sa.String(length=255), nullable=False, unique=True),
        sa.Column('memory_mb', sa.Integer(), nullable=False),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('root_gb', sa.Integer(), nullable=False),
        sa.Column('ephemeral_gb', sa.Integer(), nullable=False),
        sa.Column('swap', sa.Integer(), nullable=False),
        sa.Column('rxtx_factor', sa.Float(), nullable=False),
        sa.Column('is_public', sa.Boolean(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', DateTime, nullable=False))
    op.create_table(
        'instance_actions',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('instance_uuid', sa.String(length=36), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=255), nullable=False),
        sa.Column('project_id', sa.String(length=64), nullable=True),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('message', sa.String(length=255), nullable=True),
        sa.Column('start_time', DateTime, nullable=False),
        sa.Column('finish_time', DateTime, nullable=True),
        sa.Column('updated_at', DateTime, nullable=True))
    op.create_table(
        'instances',
        sa.Column('uuid', sa.String(length=36), primary_key=True),
        sa.Column('display_name', sa.String(length=255), nullable=False),
        sa.Column('hostname', sa.String(length=255), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('project_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('image_ref', sa.String(length=64), nullable=True),
        sa.Column('flavor', sa.JSON(), nullable=False),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('memory_mb', sa.Integer(), nullable=False),
        sa.Column('root_gb', sa.Integer(), nullable=False),
        sa.Column('vm_state', sa.String(length=32), nullable=False),
        sa.Column('task_state', sa.String(length=32), nullable=True),
        sa.Column('power_state', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=True),
        sa.Column('node', sa.String(length=255), nullable=True),
        sa.Column('availability_zone', sa.String(length=255), nullable=True),
        sa.Column('key_name', sa.String(length=255), nullable=True),
        sa.Column('key_data', sa.Text(), nullable=True),
        sa.Column('user_data', sa.Text(), nullable=True),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('request_spec', sa.JSON(), nullable=False),
        sa.Column('fault', sa.JSON(), nullable=True),
        sa.Column('launch_index', sa.Integer(), nullable=False),
        sa.Column('reservation_id', sa.String(length=64), nullable=True),
        sa.Column('config_drive', sa.Boolean(), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('locked', sa.Boolean(), nullable=False),
        sa.Column('launched_at', DateTime, nullable=True),
        sa.Column('terminated_at', DateTime, nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=True),
        sa.Column('deleted_at', DateTime, nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False))
    op.create_index('ix_instances_host_deleted', 'instances', ['host', 'deleted'])
    op.create_index('ix_instance_actions_instance', 'instance_actions', ['instance_uuid'])
    op.create_index('ix_instances_project_deleted', 'instances', ['project_id', 'deleted'])
    op.create_table(
        'key_pairs',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=255), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('type', sa.String(length=8), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('user_id', 'name', name='uniq_key_pairs_user_name'))
    op.create_table(
        'quota_limits',
        sa.Column('project_id', sa.String(length=64), primary_key=True),
        sa.Column('resource', sa.String(length=64), primary_key=True),
        sa.Column('hard_limit', sa.Integer(), nullable=False))
    op.create_table(
        'quota_usages',
        sa.Column('project_id', sa.String(length=64), primary_key=True),
        sa.Column('resource', sa.String(length=64), primary_key=True),
        sa.Column('in_use', sa.Integer(), nullable=False))
    op.create_table(
        'server_groups',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(length=36), nullable=False, unique=True),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('project_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('policy', sa.String(length=32), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('created_at', DateTime, nullable=False))
    op.create_table(
        'aggregate_hosts',
        sa.Column('aggregate_id',
                  sa.Integer(),
                  sa.ForeignKey('aggregates.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('host', sa.String(length=255), primary_key=True))
    op.create_table(
        'allocations',
        sa.Column('consumer_uuid', sa.String(length=36), primary_key=True),
        sa.Column('node_id',
                  sa.Integer(),
                  sa.ForeignKey('compute_nodes.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('memory_mb', sa.Integer(), nullable=False),
        sa.Column('disk_gb', sa.Integer(), nullable=False),
        sa.Column('created_at', DateTime, nullable=False))
    op.create_table(
        'flavor_extra_specs',
        sa.Column('flavor_id',
                  sa.Integer(),
                  sa.ForeignKey('flavors.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('key', sa.String(length=255), primary_key=True),
        sa.Column('value', sa.String(length=255), nullable=False))
    op.create_table(
        'flavor_projects',
        sa.Column('flavor_id',
                  sa.Integer(),
                  sa.ForeignKey('flavors.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('project_id', sa.String(length=64), primary_key=True))
    op.create_table(
        'instance_action_events',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('action_id',
                  sa.Integer(),
                  sa.ForeignKey('instance_actions.id', ondelete='CASCADE'),
                  nullable=False,
                  index=True),
        sa.Column('event', sa.String(length=255), nullable=False),
        sa.Column('start_time', DateTime, nullable=False),
        sa.Column('finish_time', DateTime, nullable=True),
        sa.Column('result', sa.String(length=32), nullable=True),
        sa.Column('traceback', sa.Text(), nullable=True),
        sa.Column('host', sa.String(length=255), nullable=True),
        sa.Column('details', sa.Text(), nullable=True))
    op.create_table(
        'server_group_members',
        sa.Column('group_id',
                  sa.Integer(),
                  sa.ForeignKey('server_groups.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('instance_uuid', sa.String(length=36), primary_key=True))
