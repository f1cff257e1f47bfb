"""Routers: a project's router with its external gateway and static routes
(its interfaces are ports whose device_id is the router's id).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'routers',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255), nullable=False),
        sa.Column('admin_state_up', sa.Boolean, nullable=False),
        sa.Column('gw_port_id', sa.String(36), sa.ForeignKey('ports.id', ondelete='SET NULL')),
        sa.Column('enable_snat', sa.Boolean, nullable=False),
        sa.Column('routes', sa.JSON, nullable=False),
        sa.Column('tags', sa.JSON, nullable=False),
        sa.Column('revision_number', sa.Integer, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False))
    op.create_index('ix_routers_project_id', 'routers', ['project_id'])


def downgrade():
    op.drop_index('ix_routers_project_id', 'routers')
    op.drop_table('routers')
