"""Images: records, members, properties, tags.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('visibility', sa.String(20), nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('disk_format', sa.String(20)),
        sa.Column('container_format', sa.String(20)),
        sa.Column('size', sa.BigInteger),
        sa.Column('virtual_size', sa.BigInteger),
        sa.Column('checksum', sa.String(32)),
        sa.Column('os_hash_algo', sa.String(64)),
        sa.Column('os_hash_value', sa.String(128)),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('os_hidden', sa.Boolean, nullable=False),
        sa.Column('deleted', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.Column('deleted_at', DateTime))
    op.create_index('ix_images_owner', 'images', ['owner'])
    op.create_index('ix_images_name', 'images', ['name'])
    op.create_index('ix_images_visibility_deleted', 'images', ['visibility', 'deleted'])
    op.create_index('ix_images_created_at_id', 'images', ['created_at', 'id'])
    op.create_table(
        'image_properties',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('name', sa.String(255), primary_key=True),
        sa.Column('value', sa.Text, nullable=False))
    op.create_table(
        'image_members',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('member', sa.String(255), primary_key=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False))
    op.create_index('ix_image_members_member', 'image_members', ['member'])
    op.create_table(
        'image_tags',
        sa.Column('image_id', sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('value', sa.String(255), primary_key=True))
