"""volume_messages: user messages of the volume API (Cinder's /messages):
why an asynchronous volume operation failed.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'volume_messages',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(64), nullable=False),
        sa.Column('request_id', sa.String(255), nullable=True),
        sa.Column('resource_type', sa.String(36), nullable=False),
        sa.Column('resource_uuid', sa.String(36), nullable=True),
        sa.Column('event_id', sa.String(255), nullable=False),
        sa.Column('message_level', sa.String(255), nullable=False),
        sa.Column('user_message', sa.String(1024), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('expires_at', DateTime, nullable=False))
    op.create_index('ix_volume_messages_project_id', 'volume_messages', ['project_id'])


def downgrade():
    op.drop_index('ix_volume_messages_project_id', 'volume_messages')
    op.drop_table('volume_messages')
