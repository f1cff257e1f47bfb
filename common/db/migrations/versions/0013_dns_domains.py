"""dns-integration: a network's dns_domain, a floating IP's dns_name and
dns_domain ('' where none is set).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('networks') as batch:
        batch.add_column(sa.Column('dns_domain', sa.String(255), nullable=False,
                                   server_default=''))
    with op.batch_alter_table('floatingips') as batch:
        batch.add_column(sa.Column('dns_name', sa.String(255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('dns_domain', sa.String(255), nullable=False,
                                   server_default=''))


def downgrade():
    with op.batch_alter_table('floatingips') as batch:
        batch.drop_column('dns_domain')
        batch.drop_column('dns_name')
    with op.batch_alter_table('networks') as batch:
        batch.drop_column('dns_domain')
