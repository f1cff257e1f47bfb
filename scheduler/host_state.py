"""What the scheduler knows of each host: totals, usage, service state."""

import datetime

import sqlalchemy as sa

from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import models

COMPUTE_BINARY = 'nova-compute'


class HostState:
    __slots__ = ('node_id', 'host', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb',
                 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'reserved_vcpus',
                 'reserved_memory_mb', 'reserved_disk_gb', 'up', 'disabled',
                 'disabled_reason', 'availability_zone', 'instances', 'hypervisor_type')

    def __init__(self, node, service=None, zone=None, instances=()):
        for attr in ('host', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb',
                     'vcpus_used', 'memory_mb_used', 'local_gb_used', 'reserved_vcpus',
                     'reserved_memory_mb', 'reserved_disk_gb', 'hypervisor_type'):
            setattr(self, attr, getattr(node, attr))
        self.node_id = node.id
        self.up = service is not None and servicegroup.is_up(service)
        self.disabled = service is None or service.disabled
        self.disabled_reason = service.disabled_reason if service else 'no service record'
        self.availability_zone = zone or CONF.default_availability_zone
        self.instances = set(instances)

    # Capacity under allocation ratios, less what is reserved for the host.
    @property
    def vcpus_limit(self):
        return self.vcpus * CONF.scheduler.cpu_allocation_ratio - self.reserved_vcpus

    @property
    def memory_mb_limit(self):
        return self.memory_mb * CONF.scheduler.ram_allocation_ratio - self.reserved_memory_mb

    @property
    def disk_gb_limit(self):
        return self.local_gb * CONF.scheduler.disk_allocation_ratio - self.reserved_disk_gb

    @property
    def free_vcpus(self):
        return self.vcpus_limit - self.vcpus_used

    @property
    def free_ram_mb(self):
        return self.memory_mb_limit - self.memory_mb_used

    @property
    def free_disk_gb(self):
        return self.disk_gb_limit - self.local_gb_used

    def consume(self, req):
        self.vcpus_used += req['vcpus']
        self.memory_mb_used += req['memory_mb']
        self.local_gb_used += req['disk_gb']


def load_hosts():
    """Every compute node with its service record, zone and instances."""
    with db_api.reader() as s:
        nodes = list(s.scalars(sa.select(cm.ComputeNode)))
        zones = {}
        for host, zone in s.execute(sa.select(cm.AggregateHost.host,
                                              cm.Aggregate.availability_zone)
                                    .join(cm.Aggregate, cm.Aggregate.id ==
                                          cm.AggregateHost.aggregate_id)
                                    .where(cm.Aggregate.availability_zone.is_not(None))):
            zones[host] = zone
        placed = {}
        for host, uuid in s.execute(sa.select(cm.Instance.host, cm.Instance.uuid)
                                    .where(cm.Instance.deleted.is_(False),
                                           cm.Instance.host.is_not(None))):
            placed.setdefault(host, []).append(uuid)
    services = {r.host: r for r in servicegroup.list_services(binary=COMPUTE_BINARY)}
    return [HostState(n, services.get(n.host), zones.get(n.host), placed.get(n.host, ()))
            for n in nodes]


# Filters the database applies itself (one indexed-scan query), so a
# placement among thousands of hosts reads only a handful of rows.
SQL_FILTERS = ('ComputeFilter', 'AvailabilityZoneFilter', 'RamFilter', 'CoreFilter',
               'DiskFilter')


def _zone_clause(zone):
    az_hosts = (sa.select(cm.AggregateHost.host)
                .join(cm.Aggregate, cm.Aggregate.id == cm.AggregateHost.aggregate_id))
    if zone == CONF.default_availability_zone:
        return cm.ComputeNode.host.not_in(az_hosts.where(
            cm.Aggregate.availability_zone.is_not(None),
            cm.Aggregate.availability_zone != zone))
    return cm.ComputeNode.host.in_(az_hosts.where(cm.Aggregate.availability_zone == zone))


def candidates(spec, enabled, limit=20):
    """The best ``limit`` hosts that pass the SQL filters, best first.

    Weighs in SQL too: free RAM and free vCPUs, each normalised over the
    passing hosts and multiplied by its config multiplier.
    """
    N, S = cm.ComputeNode, models.ServiceRecord
    sch = CONF.scheduler
    free_ram = N.memory_mb * sch.ram_allocation_ratio - N.reserved_memory_mb - N.memory_mb_used
    free_cpu = N.vcpus * sch.cpu_allocation_ratio - N.reserved_vcpus - N.vcpus_used
    free_disk = N.local_gb * sch.disk_allocation_ratio - N.reserved_disk_gb - N.local_gb_used
    cond = []
    if 'ComputeFilter' in enabled:
        cutoff = models.utcnow() - datetime.timedelta(
            seconds=CONF.service_down_time)
        cond += [S.disabled.is_(False), S.forced_down.is_(False), S.last_seen_up >= cutoff]
    if 'RamFilter' in enabled:
        cond.append(free_ram >= spec['memory_mb'])
    if 'CoreFilter' in enabled:
        cond.append(free_cpu >= spec['vcpus'])
    if 'DiskFilter' in enabled:
        cond.append(free_disk >= spec['disk_gb'])
    if 'AvailabilityZoneFilter' in enabled and spec.get('availability_zone'):
        cond.append(_zone_clause(spec['availability_zone']))
    if spec.get('ignore_hosts'):
        cond.append(N.host.not_in(list(spec['ignore_hosts'])))
    inner = (sa.select(N.id.label('node_id'), free_ram.label('fr'), free_cpu.label('fc'),
                       sa.func.min(free_ram).over().label('fr_lo'),
                       sa.func.max(free_ram).over().label('fr_hi'),
                       sa.func.min(free_cpu).over().label('fc_lo'),
                       sa.func.max(free_cpu).over().label('fc_hi'))
             .join(S, sa.and_(S.host == N.host, S.binary == COMPUTE_BINARY))
             .where(*cond).subquery())

    def norm(col, lo, hi):
        return sa.func.coalesce((col - lo) / sa.func.nullif(hi - lo, 0), 0)
    weight = (sch.ram_weight_multiplier * norm(inner.c.fr, inner.c.fr_lo, inner.c.fr_hi) +
              sch.cpu_weight_multiplier * norm(inner.c.fc, inner.c.fc_lo, inner.c.fc_hi))
    q = sa.select(inner.c.node_id).order_by(weight.desc(), inner.c.node_id).limit(limit)
    with db_api.reader() as s:
        ids = list(s.scalars(q))
        if not ids:
            return []
        nodes = {n.id: n for n in s.scalars(sa.select(N).where(N.id.in_(ids)))}
        hosts = [nodes[i].host for i in ids]
        placed = {}
        for host, uuid in s.execute(sa.select(cm.Instance.host, cm.Instance.uuid).where(
                cm.Instance.deleted.is_(False), cm.Instance.host.in_(hosts))):
            placed.setdefault(host, []).append(uuid)
        services = {r.host: r for r in s.scalars(sa.select(S).where(
            S.binary == COMPUTE_BINARY, S.host.in_(hosts)))}
    return [HostState(nodes[i], services.get(nodes[i].host),
                      spec.get('availability_zone'), placed.get(nodes[i].host, ()))
            for i in ids]
