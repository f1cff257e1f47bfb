"""Claims: one atomic compare-and-set per host in the database.

A claim adds a request to a node's usage only if it still fits under the
allocation ratios and reserved amounts, in the same UPDATE that checks it,
and records an allocation for the consumer. Two schedulers racing for the
last room on a host: one UPDATE matches, the other matches no row.
"""

import functools
import uuid as uuid_mod

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import models
from common.db.models import utcnow

N = cm.ComputeNode
A = cm.Allocation
S = models.ServiceRecord


def _bound(name):
    return sa.bindparam(name, type_=sa.Float)


# Built once: the conditional UPDATE (compare-and-set) and the allocation
# row, both plain Core statements with bound values, so a claim costs one
# BEGIN, two statements and a COMMIT on one connection (no ORM unit of work).
_CLAIM = (
    sa.update(N).where(
        N.id == sa.bindparam('node_id'),
        N.vcpus_used + sa.bindparam('v') <= N.vcpus * _bound('cpu_ratio') - N.reserved_vcpus,
        N.memory_mb_used + sa.bindparam('m') <= N.memory_mb * _bound('ram_ratio')
        - N.reserved_memory_mb,
        N.local_gb_used + sa.bindparam('d') <= N.local_gb * _bound('disk_ratio')
        - N.reserved_disk_gb)
    .values(vcpus_used=N.vcpus_used + sa.bindparam('v'),
            memory_mb_used=N.memory_mb_used + sa.bindparam('m'),
            local_gb_used=N.local_gb_used + sa.bindparam('d')))
_ALLOCATE = sa.insert(A)
# The same, and the host's compute service is (still) enabled: a scheduler
# whose cache was read before an admin disabled the host does not place
# there in the second or so until its next read (ComputeFilter's rule,
# which the cache could not see yet, decided by the database like the room).
_CLAIM_ENABLED = _CLAIM.where(sa.select(S.id).where(
    S.host == N.host, S.binary == 'nova-compute', S.disabled.is_(False)).exists())


def claim(node_id, consumer_uuid, req, enabled_only=False):
    """True when ``req`` ({'vcpus','memory_mb','disk_gb'}) was claimed.

    The UPDATE matches only while the request still fits, so of two
    schedulers racing for the last room on a host exactly one wins; with
    ``enabled_only``, only while the host's compute service is enabled.
    A transaction lost to the database raises DBDeadlock or
    DBConnectionError (it may have committed all the same: ``held`` tells).
    """
    sch = CONF.scheduler
    v, m, d = req['vcpus'], req['memory_mb'], req['disk_gb']
    with db_api.connection() as conn:
        res = conn.execute(_CLAIM_ENABLED if enabled_only else _CLAIM, {
            'node_id': node_id, 'v': v, 'm': m, 'd': d,
            'cpu_ratio': sch.cpu_allocation_ratio, 'ram_ratio': sch.ram_allocation_ratio,
            'disk_ratio': sch.disk_allocation_ratio})
        if res.rowcount != 1:
            return False
        conn.execute(_ALLOCATE, {'consumer_uuid': consumer_uuid, 'node_id': node_id,
                                 'vcpus': v, 'memory_mb': m, 'disk_gb': d})
    return True


def release(consumer_uuid, node_id=None):
    """Give back what a consumer holds (on one node, or everywhere)."""
    with db_api.session() as s:
        q = sa.select(A).where(A.consumer_uuid == consumer_uuid)
        if node_id is not None:
            q = q.where(A.node_id == node_id)
        for alloc in list(s.scalars(q)):
            s.execute(sa.update(N).where(N.id == alloc.node_id).values(
                vcpus_used=sa.case((N.vcpus_used >= alloc.vcpus,
                                    N.vcpus_used - alloc.vcpus), else_=0),
                memory_mb_used=sa.case((N.memory_mb_used >= alloc.memory_mb,
                                        N.memory_mb_used - alloc.memory_mb), else_=0),
                local_gb_used=sa.case((N.local_gb_used >= alloc.disk_gb,
                                       N.local_gb_used - alloc.disk_gb), else_=0)))
            s.delete(alloc)


def node_for_host(host):
    with db_api.reader() as s:
        return s.scalars(sa.select(N).where(N.host == host)).first()


# What a compute agent's resource report sets on its node.
REPORTED = ('hypervisor_hostname', 'hypervisor_type', 'hypervisor_version', 'vcpus',
            'memory_mb', 'local_gb', 'cpu_info', 'disk_available_least', 'running_vms',
            'host_ip', 'reserved_vcpus', 'reserved_memory_mb', 'reserved_disk_gb',
            'external_gateway')


@functools.lru_cache(maxsize=16)
def _touch_unchanged(keys):
    """UPDATE of a node's updated_at that matches only while it holds the
    values ``keys`` (bound as v_<key>) already."""
    return sa.update(N).where(
        N.host == sa.bindparam('b_host'),
        *[getattr(N, k).is_not_distinct_from(sa.bindparam('v_' + k)) for k in keys]
    ).values(updated_at=sa.bindparam('b_now'))


def touch_if_unchanged(host, resources):
    """True when the node of ``host`` holds every total of ``resources``
    already (an agent's usual report): then only its updated_at is written,
    in one statement (a compare-and-set: right whichever scheduler took
    the previous report)."""
    keys = tuple(k for k in REPORTED if k in resources)
    params = {'v_' + k: resources[k] for k in keys}
    params.update(b_host=host, b_now=utcnow())
    with db_api.connection() as conn:
        return conn.execute(_touch_unchanged(keys), params).rowcount == 1


def update_node(host, resources):
    """A compute agent's report of its totals (usage stays the claims')."""
    totals = {k: resources[k] for k in REPORTED if k in resources}
    totals['updated_at'] = utcnow()
    for attempt in range(2):
        try:
            with db_api.session() as s:
                node = s.scalars(sa.select(N).where(N.host == host)).first()
                if node is None:
                    s.add(N(uuid=str(uuid_mod.uuid4()), host=host, vcpus_used=0,
                            memory_mb_used=0, local_gb_used=0, **totals))
                else:
                    for k, val in totals.items():
                        setattr(node, k, val)
            return
        except sa_exc.IntegrityError:
            # Two first reports of a host at once (an agent retries one the
            # busy scheduler took too long to answer): the other made the
            # row; update it.
            if attempt:
                raise


def move(from_consumer, to_consumer):
    """Hand what ``from_consumer`` holds to ``to_consumer`` (usage on the
    nodes unchanged). A consumer holds at most one row per node: call this
    only once ``to_consumer`` has released that node."""
    with db_api.session() as s:
        s.execute(sa.update(A).where(A.consumer_uuid == from_consumer)
                  .values(consumer_uuid=to_consumer))


_HELD = sa.select(A.node_id, A.vcpus, A.memory_mb, A.disk_gb).where(
    A.consumer_uuid == sa.bindparam('u'))


def held(consumer_uuid):
    """{node_id: {'vcpus', 'memory_mb', 'disk_gb'}} that a consumer holds.

    A causal read on Galera (wsrep_sync_wait): after a lost transaction the
    front may send this read to another node, which must not answer before
    it has applied what the lost one committed (a claim missed here is
    claimed twice: a duplicate allocation, the build in ERROR)."""
    with db_api.connection() as conn:
        if conn.dialect.name == 'mysql':
            sql = str(_HELD.compile(dialect=conn.dialect))
            rows = conn.exec_driver_sql('SET STATEMENT wsrep_sync_wait=1 FOR ' + sql,
                                        {'u': consumer_uuid})
        else:
            rows = conn.execute(_HELD, {'u': consumer_uuid})
        return {r.node_id: {'vcpus': r.vcpus, 'memory_mb': r.memory_mb,
                            'disk_gb': r.disk_gb} for r in rows}
