"""Foundation: identity, catalog, token revocation and service records.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'domains',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('description', sa.Text),
        sa.Column('enabled', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime, nullable=False))
    op.create_table(
        'projects',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('domain_id', sa.String(64), sa.ForeignKey('domains.id'), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('enabled', sa.Boolean, nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('domain_id', 'name', name='uniq_projects_domain_name'))
    op.create_table(
        'users',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('domain_id', sa.String(64), sa.ForeignKey('domains.id'), nullable=False),
        sa.Column('password_hash', sa.String(255)),
        sa.Column('enabled', sa.Boolean, nullable=False),
        sa.Column('default_project_id', sa.String(64)),
        sa.Column('email', sa.String(255)),
        sa.Column('description', sa.Text),
        sa.Column('tokens_valid_after', DateTime),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('domain_id', 'name', name='uniq_users_domain_name'))
    op.create_table(
        'roles',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('description', sa.Text))
    op.create_table(
        'role_assignments',
        sa.Column('actor_id', sa.String(64), primary_key=True),
        sa.Column('target_type', sa.String(16), primary_key=True),
        sa.Column('target_id', sa.String(64), primary_key=True),
        sa.Column('role_id', sa.String(64), sa.ForeignKey('roles.id', ondelete='CASCADE'),
                  primary_key=True))
    op.create_index('ix_role_assignments_target', 'role_assignments',
                    ['target_type', 'target_id'])
    op.create_table(
        'regions',
        sa.Column('id', sa.String(255), primary_key=True),
        sa.Column('description', sa.Text),
        sa.Column('parent_region_id', sa.String(255)))
    op.create_table(
        'catalog_services',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('type', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('description', sa.Text),
        sa.Column('enabled', sa.Boolean, nullable=False))
    op.create_table(
        'catalog_endpoints',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('service_id', sa.String(64),
                  sa.ForeignKey('catalog_services.id', ondelete='CASCADE'), nullable=False),
        sa.Column('interface', sa.String(8), nullable=False),
        sa.Column('region_id', sa.String(255)),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('enabled', sa.Boolean, nullable=False))
    op.create_table(
        'revoked_tokens',
        sa.Column('audit_id', sa.String(32), primary_key=True),
        sa.Column('expires_at', DateTime, nullable=False, index=True))
    op.create_table(
        'services',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('zone', sa.String(255), nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('forced_down', sa.Boolean, nullable=False),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('last_seen_up', DateTime),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime),
        sa.UniqueConstraint('host', 'binary', name='uniq_services_host_binary'))
