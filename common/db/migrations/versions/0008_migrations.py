"""Migrations: one row per resize, with its old and new flavors.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'migrations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('migration_type', sa.String(32), nullable=False),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('source_compute', sa.String(255)),
        sa.Column('dest_compute', sa.String(255)),
        sa.Column('source_node', sa.String(255)),
        sa.Column('dest_node', sa.String(255)),
        sa.Column('old_flavor', sa.JSON, nullable=False),
        sa.Column('new_flavor', sa.JSON, nullable=False),
        sa.Column('quota_delta', sa.JSON, nullable=False),
        sa.Column('vm_state_before', sa.String(32)),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime),
    )
    op.create_index('ix_migrations_instance', 'migrations', ['instance_uuid'])


def downgrade():
    op.drop_index('ix_migrations_instance', 'migrations')
    op.drop_table('migrations')
