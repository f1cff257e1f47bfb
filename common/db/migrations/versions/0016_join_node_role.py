"""join_nodes.role: what a node joins as ('compute', the default, or
'control': a controller that joins the Galera and RabbitMQ clusters and
runs the control services; cli/node_cloud.py).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('join_nodes') as batch:
        batch.add_column(sa.Column('role', sa.String(32), nullable=False,
                                   server_default='compute'))


def downgrade():
    with op.batch_alter_table('join_nodes') as batch:
        batch.drop_column('role')
