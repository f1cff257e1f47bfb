"""Compute: flavors, instances, claims and the rest of the compute API.

Revision ID: 0002
Revises: 0001
"""

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    pass
