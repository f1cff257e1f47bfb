"""What the scheduler knows of each host: totals, usage, service state."""

import sqlalchemy as sa

from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm

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
