"""Compute tables, owned by the compute API and the scheduler (compute
agents hold no database credentials and reach these through the scheduler).
"""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db.models import Base
from common.db.models import utcnow


class Flavor(Base):
    __tablename__ = 'flavors'
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    swap: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    rxtx_factor: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class FlavorExtraSpec(Base):
    __tablename__ = 'flavor_extra_specs'
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('flavors.id', ondelete='CASCADE'), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class FlavorProject(Base):
    __tablename__ = 'flavor_projects'
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('flavors.id', ondelete='CASCADE'), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class KeyPair(Base):
    __tablename__ = 'key_pairs'
    __table_args__ = (sa.UniqueConstraint('user_id', 'name', name='uniq_key_pairs_user_name'),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    public_key: orm.Mapped[str] = orm.mapped_column(sa.Text)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(8), default='ssh')
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class Instance(Base):
    __tablename__ = 'instances'
    __table_args__ = (sa.Index('ix_instances_project_deleted', 'project_id', 'deleted'),
                      sa.Index('ix_instances_host_deleted', 'host', 'deleted'))
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    display_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    image_ref: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    flavor: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    vm_state: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    task_state: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    power_state: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    key_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    key_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    user_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    meta: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    request_spec: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    fault: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    launch_index: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    reservation_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    config_drive: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    progress: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    locked: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    locked_by: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    # accessIPv4/accessIPv6 as the user gave them (Nova stores, never uses them)
    access_ip_v4: orm.Mapped[str | None] = orm.mapped_column(sa.String(39))
    access_ip_v6: orm.Mapped[str | None] = orm.mapped_column(sa.String(39))
    # server tags (2.26), a list; None for none
    tags: orm.Mapped[list | None] = orm.mapped_column(sa.JSON)
    launched_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    terminated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    deleted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)


class InstanceAction(Base):
    __tablename__ = 'instance_actions'
    __table_args__ = (sa.Index('ix_instance_actions_instance', 'instance_uuid'),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    request_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    action: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    message: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    finish_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class InstanceActionEvent(Base):
    __tablename__ = 'instance_action_events'
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    action_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('instance_actions.id', ondelete='CASCADE'), index=True)
    event: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    finish_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
    result: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    traceback: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class ComputeNode(Base):
    """A hypervisor: totals reported by its agent, usage kept by claims."""
    __tablename__ = 'compute_nodes'
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_type: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    hypervisor_version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    host_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    # The agent's [network] external_gateway: it serves centralized SNAT.
    external_gateway: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False,
                                                           server_default=sa.false())
    cpu_info: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    local_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    reserved_vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    reserved_memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    reserved_disk_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    vcpus_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    memory_mb_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    local_gb_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    disk_available_least: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    running_vms: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class Allocation(Base):
    """What one consumer (an instance) holds on one compute node."""
    __tablename__ = 'allocations'
    consumer_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    node_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('compute_nodes.id', ondelete='CASCADE'), primary_key=True)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    disk_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class QuotaLimit(Base):
    """A project's own limit for a resource (otherwise the [quota] default)."""
    __tablename__ = 'quota_limits'
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class QuotaUsage(Base):
    """What a project uses, changed only by conditional updates."""
    __tablename__ = 'quota_usages'
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    in_use: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class ServerGroup(Base):
    __tablename__ = 'server_groups'
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    policy: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    rules: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)


class ServerGroupMember(Base):
    __tablename__ = 'server_group_members'
    group_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('server_groups.id', ondelete='CASCADE'), primary_key=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)


class Aggregate(Base):
    __tablename__ = 'aggregates'
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    meta: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()


class AggregateHost(Base):
    __tablename__ = 'aggregate_hosts'
    aggregate_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('aggregates.id', ondelete='CASCADE'), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class Migration(Base):
    """A resize (and later a move) of one instance: its flavors before and
    after, and the consumer that holds the second claim while both hold."""
    __tablename__ = 'migrations'
    __table_args__ = (sa.Index('ix_migrations_instance', 'instance_uuid'),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    migration_type: orm.Mapped[str] = orm.mapped_column(sa.String(32), default='resize')
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    source_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    dest_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    source_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    dest_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    old_flavor: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    new_flavor: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    # what the resize added to the project's quota usage (given back on revert)
    quota_delta: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    vm_state_before: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column()
