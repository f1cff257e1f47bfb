"""Image service tables (owned by altostack-image).

An image row is never removed by the API: a deleted image keeps its row with
status 'deleted' (and deleted=True), so its id cannot be reused and servers
that were built from it can still name it. Properties, members and tags go
with the image (ON DELETE CASCADE) if a row is ever purged.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow


class Image(Base):
    __tablename__ = 'images'
    __table_args__ = (
        sa.Index('ix_images_owner', 'owner'),
        sa.Index('ix_images_name', 'name'),
        sa.Index('ix_images_visibility_deleted', 'visibility', 'deleted'),
        sa.Index('ix_images_created_at_id', 'created_at', 'id'),
    )
    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30))
    visibility: orm.Mapped[str] = orm.mapped_column(sa.String(20))
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    disk_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    container_format: orm.Mapped[str | None] = orm.mapped_column(sa.String(20))
    size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    virtual_size: orm.Mapped[int | None] = orm.mapped_column(sa.BigInteger)
    checksum: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    os_hash_algo: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    os_hash_value: orm.Mapped[str | None] = orm.mapped_column(sa.String(128))
    min_disk: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    min_ram: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    protected: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    os_hidden: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    deleted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class ImageProperty(Base):
    """An additional (non-base) property: always a string value."""
    __tablename__ = 'image_properties'
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.Text)


class ImageMember(Base):
    """A project an image is shared with; status pending, accepted or rejected."""
    __tablename__ = 'image_members'
    __table_args__ = (sa.Index('ix_image_members_member', 'member'),)
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'), primary_key=True)
    member: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), default='pending')
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class ImageTag(Base):
    __tablename__ = 'image_tags'
    image_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
