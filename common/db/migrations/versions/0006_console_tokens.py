"""Console auth tokens: the serial console URLs handed out, by token hash.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'console_auth_tokens',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('console_type', sa.String(32), nullable=False),
        sa.Column('instance_uuid', sa.String(36), nullable=False),
        sa.Column('compute_host', sa.String(255), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('port', sa.Integer, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('expires', DateTime, nullable=False),
        sa.UniqueConstraint('token_hash', name='uniq_console_auth_tokens_token_hash'))
    op.create_index('ix_console_auth_tokens_instance_uuid', 'console_auth_tokens',
                    ['instance_uuid'])
    op.create_index('ix_console_auth_tokens_expires', 'console_auth_tokens', ['expires'])


def downgrade():
    op.drop_table('console_auth_tokens')
