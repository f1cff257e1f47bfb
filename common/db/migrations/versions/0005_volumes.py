"""Volumes: volume types, volumes, attachments, snapshots, volume quotas.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'volume_types',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255)),
        sa.Column('is_public', sa.Boolean, nullable=False),
        sa.Column('extra_specs', sa.JSON, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.UniqueConstraint('name', name='uniq_volume_types_name'))

    op.create_table(
        'volumes',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64)),
        sa.Column('name', sa.String(255)),
        sa.Column('description', sa.String(255)),
        sa.Column('size', sa.Integer, nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('availability_zone', sa.String(255), nullable=False),
        sa.Column('volume_type_id', sa.String(36)),
        sa.Column('snapshot_id', sa.String(36)),
        sa.Column('source_volid', sa.String(36)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('bootable', sa.Boolean, nullable=False),
        sa.Column('readonly', sa.Boolean, nullable=False),
        sa.Column('metadata', sa.JSON, nullable=False),
        sa.Column('image_metadata', sa.JSON, nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('provider_location', sa.Text),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.Column('deleted', sa.Boolean, nullable=False),
        sa.Column('deleted_at', DateTime))
    op.create_index('ix_volumes_project_id', 'volumes', ['project_id'])
    op.create_index('ix_volumes_status', 'volumes', ['status'])

    op.create_table(
        'volume_attachments',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('volume_id', sa.String(36),
                  sa.ForeignKey('volumes.id', ondelete='CASCADE'), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('host_name', sa.String(255)),
        sa.Column('device', sa.String(255)),
        sa.Column('delete_on_termination', sa.Boolean, nullable=False),
        sa.Column('attached_at', DateTime),
        sa.Column('created_at', DateTime, nullable=False))
    op.create_index('ix_volume_attachments_volume_id', 'volume_attachments', ['volume_id'])
    op.create_index('ix_volume_attachments_instance_uuid', 'volume_attachments',
                    ['instance_uuid'])

    op.create_table(
        'volume_snapshots',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('user_id', sa.String(64)),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('description', sa.String(255)),
        sa.Column('size', sa.Integer, nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('metadata', sa.JSON, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.Column('deleted', sa.Boolean, nullable=False),
        sa.Column('deleted_at', DateTime))
    op.create_index('ix_volume_snapshots_project_id', 'volume_snapshots', ['project_id'])
    op.create_index('ix_volume_snapshots_volume_id', 'volume_snapshots', ['volume_id'])

    op.create_table(
        'volume_quotas',
        sa.Column('project_id', sa.String(64), primary_key=True),
        sa.Column('resource', sa.String(64), primary_key=True),
        sa.Column('hard_limit', sa.Integer, nullable=False))


def downgrade():
    op.drop_table('volume_quotas')
    op.drop_table('volume_snapshots')
    op.drop_table('volume_attachments')
    op.drop_table('volumes')
    op.drop_table('volume_types')
