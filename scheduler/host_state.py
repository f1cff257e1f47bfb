"""What the scheduler knows of each host: totals, usage, service state.

``HostState`` is one host as the filters and weighers see it. Placement
reads hosts from the in-memory cache (scheduler/host_cache.py);
``load_hosts`` reads every host from the database, for the explanation of
a server that fits nowhere.
"""

import sqlalchemy as sa

from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm

COMPUTE_BINARY = 'nova-compute'
SCHEDULER_BINARY = 'nova-scheduler'  # Nova's name, so tools that filter by binary work

_NODE_FIELDS = ('host', 'hypervisor_hostname', 'hypervisor_type', 'vcpus', 'memory_mb',
                'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'reserved_vcpus',
                'reserved_memory_mb', 'reserved_disk_gb')


class HostState:
    __slots__ = ('node_id', 'host', 'hypervisor_hostname', 'vcpus', 'memory_mb', 'local_gb',
                 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'reserved_vcpus',
                 'reserved_memory_mb', 'reserved_disk_gb', 'up', 'disabled',
                 'disabled_reason', 'availability_zone', 'instances', 'hypervisor_type')

    def __init__(self, node_id, host, hypervisor_hostname=None, hypervisor_type=None,
                 vcpus=0, memory_mb=0, local_gb=0, vcpus_used=0, memory_mb_used=0,
                 local_gb_used=0, reserved_vcpus=0, reserved_memory_mb=0, reserved_disk_gb=0,
                 up=True, disabled=False, disabled_reason=None, availability_zone=None,
                 instances=()):
        self.node_id = node_id
        self.host = host
        self.hypervisor_hostname = hypervisor_hostname or host
        self.hypervisor_type = hypervisor_type
        self.vcpus, self.memory_mb, self.local_gb = vcpus, memory_mb, local_gb
        self.vcpus_used, self.memory_mb_used, self.local_gb_used = (
            vcpus_used, memory_mb_used, local_gb_used)
        self.reserved_vcpus = reserved_vcpus
        self.reserved_memory_mb = reserved_memory_mb
        self.reserved_disk_gb = reserved_disk_gb
        self.up = up
        self.disabled = disabled
        self.disabled_reason = disabled_reason
        self.availability_zone = availability_zone or CONF.default_availability_zone
        self.instances = set(instances)

    @classmethod
    def from_db(cls, node, service=None, zone=None, instances=()):
        """From a compute node row and its service record (None: no record)."""
        return cls(node.id, up=service is not None and servicegroup.is_up(service),
                   disabled=service is None or service.disabled,
                   disabled_reason=service.disabled_reason if service else 'no service record',
                   availability_zone=zone, instances=instances,
                   **{f: getattr(node, f) for f in _NODE_FIELDS})

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


def zone_query():
    """(host, zone) of every host in an aggregate with a zone; the last
    aggregate (by id) wins for a host in several."""
    return (sa.select(cm.AggregateHost.host, cm.Aggregate.availability_zone)
            .join(cm.Aggregate, cm.Aggregate.id == cm.AggregateHost.aggregate_id)
            .where(cm.Aggregate.availability_zone.is_not(None))
            .order_by(cm.Aggregate.id))


def zone_of(host):
    """The zone of ``host`` as the database has it now (the default zone
    for a host in no aggregate with a zone)."""
    with db_api.reader() as s:
        rows = s.execute(zone_query().where(cm.AggregateHost.host == host)).all()
    return rows[-1][1] if rows else CONF.default_availability_zone


def load_hosts():
    """Every compute node with its service record, zone and instances."""
    with db_api.reader() as s:
        nodes = list(s.scalars(sa.select(cm.ComputeNode).order_by(cm.ComputeNode.id)))
        zones = dict(s.execute(zone_query()).all())
        placed = {}
        for host, uuid in s.execute(sa.select(cm.Instance.host, cm.Instance.uuid)
                                    .where(cm.Instance.deleted.is_(False),
                                           cm.Instance.host.is_not(None))):
            placed.setdefault(host, []).append(uuid)
    services = {r.host: r for r in servicegroup.list_services(binary=COMPUTE_BINARY)}
    return [HostState.from_db(n, services.get(n.host), zones.get(n.host),
                              placed.get(n.host, ()))
            for n in nodes]
