"""SQLAlchemy models. Each section names the service that owns its tables.

Schema changes go through alembic migrations in common/db/migrations.
Times are naive UTC.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.types import DateTime


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    type_annotation_map = {datetime.datetime: DateTime}


def _id_col(length=64):
    return orm.mapped_column(sa.String(length), primary_key=True)


# --- identity (api/identity) -------------------------------------------------

class Domain(Base):
    __tablename__ = 'domains'
    id: orm.Mapped[str] = _id_col()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Project(Base):
    __tablename__ = 'projects'
    __table_args__ = (sa.UniqueConstraint('domain_id', 'name', name='uniq_projects_domain_name'),)
    id: orm.Mapped[str] = _id_col()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey('domains.id'))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class User(Base):
    __tablename__ = 'users'
    __table_args__ = (sa.UniqueConstraint('domain_id', 'name', name='uniq_users_domain_name'),)
    id: orm.Mapped[str] = _id_col()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey('domains.id'))
    password_hash: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    default_project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    email: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    # Tokens issued before this moment are no longer valid (password change).
    tokens_valid_after: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    # Keystone's resource options set on the user ({name: value}).
    options: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    # [security_compliance] lockout: failed password authentications in a
    # row, and when the last one was (api/identity/lockout.py).
    failed_auth_count: orm.Mapped[int | None] = orm.mapped_column()
    failed_auth_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class Role(Base):
    __tablename__ = 'roles'
    id: orm.Mapped[str] = _id_col()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class Group(Base):
    __tablename__ = 'groups'
    __table_args__ = (sa.UniqueConstraint('domain_id', 'name', name='uniq_groups_domain_name'),)
    id: orm.Mapped[str] = _id_col()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey('domains.id'))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class GroupMembership(Base):
    __tablename__ = 'group_memberships'
    __table_args__ = (sa.Index('ix_group_memberships_user', 'user_id'),)
    group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey('groups.id', ondelete='CASCADE'), primary_key=True)
    user_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True)


class RoleAssignment(Base):
    __tablename__ = 'role_assignments'
    __table_args__ = (sa.Index('ix_role_assignments_target', 'target_type', 'target_id'),)
    # target_type: 'project' or 'domain'; actor_id: a user's id or a group's
    # (both are generated uuid hex, so they never collide)
    actor_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    target_type: orm.Mapped[str] = orm.mapped_column(sa.String(16), primary_key=True)
    target_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    role_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey('roles.id', ondelete='CASCADE'), primary_key=True)


class Region(Base):
    __tablename__ = 'regions'
    id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    parent_region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))


class CatalogService(Base):
    __tablename__ = 'catalog_services'
    id: orm.Mapped[str] = _id_col()
    type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)


class CatalogEndpoint(Base):
    __tablename__ = 'catalog_endpoints'
    id: orm.Mapped[str] = _id_col()
    service_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey('catalog_services.id', ondelete='CASCADE'))
    interface: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    url: orm.Mapped[str] = orm.mapped_column(sa.Text)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)


class RevokedToken(Base):
    __tablename__ = 'revoked_tokens'
    audit_id: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(index=True)


# --- service records (common/servicegroup; written by each service) ----------

class ServiceRecord(Base):
    __tablename__ = 'services'
    __table_args__ = (sa.UniqueConstraint('host', 'binary', name='uniq_services_host_binary'),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    zone: orm.Mapped[str] = orm.mapped_column(sa.String(255), default='internal')
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    forced_down: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    report_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    last_seen_up: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
