"""join_nodes: compute nodes that join with a single-use token (state,
token hash, expiry, their broker user).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'join_nodes',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('state', sa.String(32), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=True),
        sa.Column('expires', DateTime, nullable=True),
        sa.Column('bus_user', sa.String(255), nullable=True),
        sa.Column('my_ip', sa.String(64), nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('joined_at', DateTime, nullable=True),
        sa.Column('removed_at', DateTime, nullable=True),
        sa.UniqueConstraint('name', name='uniq_join_nodes_name'))


def downgrade():
    op.drop_table('join_nodes')
