"""Instance lock: who locked a server ('owner' or 'admin').

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('locked_by', sa.String(16)))


def downgrade():
    with op.batch_alter_table('instances') as batch:
        batch.drop_column('locked_by')
