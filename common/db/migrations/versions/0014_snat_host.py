"""compute_nodes.external_gateway: the agent's [network] external_gateway
(its external bridge holds the public gateway), so the records know which
host serves the routers' centralized SNAT ports.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compute_nodes') as batch:
        batch.add_column(sa.Column('external_gateway', sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('compute_nodes') as batch:
        batch.drop_column('external_gateway')
