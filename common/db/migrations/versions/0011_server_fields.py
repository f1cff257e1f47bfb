"""Server fields Nova keeps and we did not: accessIPv4 and accessIPv6 as
the user gave them at create, update or rebuild (Nova's access_ip_v4 and
access_ip_v6), and the server's tags (2.26; a JSON list, at most 50).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('access_ip_v4', sa.String(39)))
        batch.add_column(sa.Column('access_ip_v6', sa.String(39)))
        batch.add_column(sa.Column('tags', sa.JSON()))


def downgrade():
    with op.batch_alter_table('instances') as batch:
        batch.drop_column('tags')
        batch.drop_column('access_ip_v6')
        batch.drop_column('access_ip_v4')
