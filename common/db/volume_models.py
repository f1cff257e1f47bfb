"""Block storage tables (Cinder v3 subset), owned by the volume API; the
volume service writes status changes through blockstore (volumes.py and its
neighbours); these models never import those rules.

volume_types; volumes -> volume_attachments (one row per server a volume
is reserved for or attached to); volume_snapshots; volume_quotas holds
per-project limits that differ from the [volume] quota_* defaults.
Volumes and snapshots are soft-deleted (deleted, deleted_at) so usage
counts skip them and the ids of the past stay unique.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow


def _id():
    return orm.mapped_column(sa.String(36), primary_key=True)


class VolumeType(Base):
    __tablename__ = 'volume_types'
    __table_args__ = (sa.UniqueConstraint('name', name='uniq_volume_types_name'),)
    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    extra_specs: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Volume(Base):
    __tablename__ = 'volumes'
    __table_args__ = (sa.Index('ix_volumes_project_id', 'project_id'),
                      sa.Index('ix_volumes_status', 'status'))
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_type_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    source_volid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    bootable: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    readonly: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    metadata_: orm.Mapped[dict] = orm.mapped_column('metadata', sa.JSON, default=dict)
    image_metadata: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    deleted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class VolumeAttachment(Base):
    __tablename__ = 'volume_attachments'
    __table_args__ = (sa.Index('ix_volume_attachments_volume_id', 'volume_id'),
                      sa.Index('ix_volume_attachments_instance_uuid', 'instance_uuid'))
    id: orm.Mapped[str] = _id()
    volume_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('volumes.id', ondelete='CASCADE'))
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32))  # reserved|attached|detaching
    host_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    device: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    delete_on_termination: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    attached_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class VolumeSnapshot(Base):
    __tablename__ = 'volume_snapshots'
    __table_args__ = (sa.Index('ix_volume_snapshots_project_id', 'project_id'),
                      sa.Index('ix_volume_snapshots_volume_id', 'volume_id'))
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    metadata_: orm.Mapped[dict] = orm.mapped_column('metadata', sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    deleted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class VolumeQuota(Base):
    __tablename__ = 'volume_quotas'
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class VolumeMessage(Base):
    """A user message (Cinder's /messages, 3.3): why an asynchronous
    operation on a resource failed, kept until ``expires_at``."""
    __tablename__ = 'volume_messages'
    __table_args__ = (sa.Index('ix_volume_messages_project_id', 'project_id'),)
    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    request_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    resource_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    event_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    message_level: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_message: orm.Mapped[str] = orm.mapped_column(sa.String(1024))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column()
