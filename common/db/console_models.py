"""Console tables, written by the compute API (which issues console URLs)
and read by altostack-serialproxy (which honours them).

console_auth_tokens: one row per console URL handed out. Only a hash of
the token is stored; the row says where the console is (the compute host
by name, and the address and port of the guest's serial socket there) and
until when the token may be used to connect.
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow


class ConsoleAuthToken(Base):
    __tablename__ = 'console_auth_tokens'
    __table_args__ = (
        sa.UniqueConstraint('token_hash', name='uniq_console_auth_tokens_token_hash'),
        sa.Index('ix_console_auth_tokens_instance_uuid', 'instance_uuid'),
        sa.Index('ix_console_auth_tokens_expires', 'expires'))
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    console_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    compute_host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    port: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    expires: orm.Mapped[datetime.datetime] = orm.mapped_column()
