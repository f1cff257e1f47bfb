"""Identity groups and their members (a group's role grants live in
role_assignments, with the group's id as the actor).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from common.db.types import DateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'groups',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('domain_id', sa.String(64), sa.ForeignKey('domains.id'), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('created_at', DateTime, nullable=False),
        sa.UniqueConstraint('domain_id', 'name', name='uniq_groups_domain_name'),
    )
    op.create_table(
        'group_memberships',
        sa.Column('group_id', sa.String(64), sa.ForeignKey('groups.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('user_id', sa.String(64), sa.ForeignKey('users.id', ondelete='CASCADE'),
                  primary_key=True),
    )
    op.create_index('ix_group_memberships_user', 'group_memberships', ['user_id'])


def downgrade():
    op.drop_index('ix_group_memberships_user', 'group_memberships')
    op.drop_table('group_memberships')
    op.drop_table('groups')
