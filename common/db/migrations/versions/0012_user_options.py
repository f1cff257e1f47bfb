"""Keystone's user resource options (ignore_password_expiry,
lock_password, multi_factor_auth_rules, ...): a JSON object per user of
the options set on it.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('options', sa.JSON()))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('options')
