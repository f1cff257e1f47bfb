"""users.failed_auth_count and users.failed_auth_at: Keystone's account
lockout ([security_compliance] lockout_failure_attempts).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_auth_count', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('failed_auth_at', DateTime, nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('failed_auth_at')
        batch.drop_column('failed_auth_count')
