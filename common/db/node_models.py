"""Compute nodes that join with a token (`altostack-manage node add`,
`altostack-node join`, `altostack-manage node remove`), kept by the
conductor and altostack-manage.

join_nodes: one row per node name. state is 'token-issued' (a token is
out: only its SHA-256 is stored, good until ``expires``), 'joined' (the
token was used; it is good no more) or 'removed'. bus_user is the broker
user made for the node (deleted on removal). role is what the node joins
as: 'compute' (an agent) or 'control' (a controller: cli/node_cloud.py);
the machine that started the cloud (`altostack-node init`) has a 'control'
row of its own, joined from the start."""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow

TOKEN_ISSUED = 'token-issued'
JOINED = 'joined'
REMOVED = 'removed'
COMPUTE = 'compute'
CONTROL = 'control'


class JoinNode(Base):
    __tablename__ = 'join_nodes'
    __table_args__ = (sa.UniqueConstraint('name', name='uniq_join_nodes_name'),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    state: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    token_hash: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    expires: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    bus_user: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    my_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    role: orm.Mapped[str] = orm.mapped_column(sa.String(32), default=COMPUTE,
                                              server_default=COMPUTE)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    joined_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    removed_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
