"""Host state in memory, one copy per scheduler process.

Reading thousands of hosts from the database for every placement is what
made scheduling slow; here each process keeps every host's totals, usage,
service state and zone as numpy columns (a ``Snapshot``). A background
thread reads it again every ``REFRESH_INTERVAL`` seconds (placement reads
on demand if it is older than that plus ``MAX_AGE``): usage, the hosts that
are not up and enabled, and the zones every time; names and totals (which
only agents' reports change) every ``NODES_INTERVAL`` seconds or when hosts
come or go. Each of this process's own claims changes the snapshot at once.
Placement filters and weighs all hosts with a few vector operations and
hands the best few, as HostStates, to the filters that only exist in
Python.

The cache may be stale; the database claim is not: a claim is one
compare-and-set UPDATE (common/db/claims.py) that only matches while the
request still fits. A claim the cache got wrong re-reads that host and the
caller moves on to the next one, so stale state costs a retry, never an
overcommit."""

import collections
import datetime
import itertools
import os
import random
import threading
import time

import numpy as np
import sqlalchemy as sa
from oslo_log import log as logging

from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import models
from scheduler import filters
from scheduler import host_state
from scheduler import weights

LOG = logging.getLogger(__name__)

REFRESH_INTERVAL = 1.0  # seconds between background re-reads
MAX_AGE = 1.0           # without a background thread: re-read when older
BACKGROUND = True       # tests turn the background thread off
TOP = 16                # hosts sorted on the fast path; the rest only if needed
NODES_INTERVAL = 10.0   # names and totals (agent reports) are re-read this often

N, S = cm.ComputeNode, models.ServiceRecord

# The numeric columns of a snapshot, in this order (rows of Snapshot.data):
# totals (read with the names) then usage (read every time).
TOTALS = ('vcpus', 'memory_mb', 'local_gb', 'reserved_vcpus', 'reserved_memory_mb',
          'reserved_disk_gb')
USAGE = ('vcpus_used', 'memory_mb_used', 'local_gb_used')
COLUMNS = TOTALS + USAGE


def _service_state(cutoff):
    """up (0/1): the service record is fresh and not forced down; enabled
    (0/1): there is a record and it is not disabled."""
    up = sa.case((sa.and_(S.forced_down.is_(False), S.last_seen_up >= cutoff), 1), else_=0)
    enabled = sa.case((S.disabled.is_(False), 1), else_=0)
    return up, enabled


# Every read: usage by node; the compute service records that are NOT up
# and enabled (normally none); a signature of the set of records (a record
# deleted or created changes it: ids are never reused).
_USAGE = sa.select(N.id, *[getattr(N, c) for c in USAGE]).order_by(N.id)
_COMPUTE = S.binary == host_state.COMPUTE_BINARY
_SERVICES_SIG = sa.select(sa.func.count(S.id), sa.func.sum(S.id)).where(_COMPUTE)


# This process's start: the agents' heartbeats are written by the
# schedulers they report to, so while no scheduler ran none was written,
# and a host alive all along looks silent.
_STARTED = models.utcnow()
_SCHEDULERS = S.binary == host_state.SCHEDULER_BINARY


def _cutoff(conn):
    """Hosts last heard of before this are down. In this process's first
    service_down_time seconds, when no other scheduler was writing the
    heartbeats, silence is measured from when they stopped being written
    (the newest agent heartbeat before this process started), not from
    now: a host that reported until then is up, one silent before that
    stays down. (A scheduler restart put every build of the next seconds
    in ERROR, 'host is down', on healthy hosts.)"""
    down_time = datetime.timedelta(seconds=CONF.service_down_time)
    now = models.utcnow()
    if now - _STARTED >= down_time:
        return now - down_time
    others = conn.execute(sa.select(sa.func.count(S.id)).where(
        _SCHEDULERS, S.host != CONF.host, S.forced_down.is_(False),
        S.last_seen_up >= now - down_time)).scalar()
    if others:
        return now - down_time
    stopped = conn.execute(sa.select(sa.func.max(S.last_seen_up)).where(
        _COMPUTE, S.last_seen_up < _STARTED)).scalar()
    return min(now, stopped or now) - down_time


def _not_ok_query(cutoff):
    up, enabled = _service_state(cutoff)
    return sa.select(S.host, up, enabled, S.forced_down).where(
        _COMPUTE, sa.or_(up == 0, enabled == 0))


# When that signature or the nodes change: nodes without a service record.
_ORPHANS = sa.select(N.id).outerjoin(S, sa.and_(S.host == N.host, _COMPUTE)).where(
    S.id.is_(None))

# Now and then (and whenever nodes come or go): names and totals.
_NODES = sa.select(N.id, N.host, N.hypervisor_hostname, N.hypervisor_type,
                   *[getattr(N, c) for c in TOTALS]).order_by(N.id)


def _rows_query(cutoff, node_ids):
    """Everything about a few nodes: id, COLUMNS, up, enabled."""
    up, enabled = _service_state(cutoff)
    return (sa.select(N.id, *[getattr(N, c) for c in COLUMNS], up, enabled)
            .outerjoin(S, sa.and_(S.host == N.host, _COMPUTE))
            .where(N.id.in_(list(node_ids))))


def _plain_rows(conn, stmt):
    """All rows of a statement without parameters, as the driver's tuples
    (no Row objects: this is the one query that returns every node)."""
    cur = conn.connection.cursor()
    try:
        cur.execute(str(stmt.compile(dialect=conn.dialect)))
        return cur.fetchall()
    finally:
        cur.close()


def _table(rows, width):
    """Rows of numbers as a float64 array (via plain tuples: numpy would
    probe every Row object for array attributes)."""
    return np.array([tuple(r) for r in rows], dtype=np.float64).reshape(len(rows), width)


class Nodes(collections.namedtuple('Nodes', 'ids hosts hypervisor_hostnames hypervisor_types '
                                            'index totals read_at')):
    """Names and totals of every node (ordered by id); totals is
    float64[len(TOTALS), n]."""

    @classmethod
    def read(cls, conn):
        rows = conn.execute(_NODES).all()
        hosts = [r[1] for r in rows]
        return cls(np.array([r[0] for r in rows], dtype=np.int64), hosts,
                   [r[2] for r in rows], [r[3] for r in rows],
                   {h: i for i, h in enumerate(hosts)},
                   np.ascontiguousarray(_table([r[4:] for r in rows], len(TOTALS)).T),
                   time.monotonic())

    def only(self, keep):
        pos = np.flatnonzero(keep).tolist()
        hosts = [self.hosts[i] for i in pos]
        return self._replace(ids=self.ids[keep], hosts=hosts,
                             hypervisor_hostnames=[self.hypervisor_hostnames[i] for i in pos],
                             hypervisor_types=[self.hypervisor_types[i] for i in pos],
                             index={h: i for i, h in enumerate(hosts)},
                             totals=self.totals[:, keep])


class Free(collections.namedtuple('Free', 'ram_mb vcpus disk_gb')):
    """Room left on every host under the allocation ratios and reservations
    (the same arithmetic, in the same order, as HostState.free_*)."""

    @classmethod
    def of(cls, snap):
        sch = CONF.scheduler
        return cls(snap.memory_mb * sch.ram_allocation_ratio - snap.reserved_memory_mb
                   - snap.memory_mb_used,
                   snap.vcpus * sch.cpu_allocation_ratio - snap.reserved_vcpus
                   - snap.vcpus_used,
                   snap.local_gb * sch.disk_allocation_ratio - snap.reserved_disk_gb
                   - snap.local_gb_used)


class Snapshot:
    """Every compute node (ordered by id) as numpy columns."""

    def __init__(self, nodes, data, up, enabled, zone, zone_names, loaded_at, seq):
        self.nodes = nodes
        self.ids = nodes.ids
        self.data = data            # float64, one row per COLUMNS entry
        for row, col in enumerate(COLUMNS):
            setattr(self, col, data[row])
        self.up = up                # bool: service record fresh and not forced down
        self.enabled = enabled      # bool: service record present and not disabled
        self.zone = zone            # int: index into zone_names
        self.zone_names = zone_names
        self.loaded_at = loaded_at  # time.monotonic() when the read began
        self.seq = seq              # the cache's change counter when the read began
        self.read_seconds = 0.0

    def __len__(self):
        return len(self.ids)

    def position(self, node_id):
        i = int(np.searchsorted(self.ids, node_id))
        return i if i < len(self.ids) and self.ids[i] == node_id else None

    def positions(self, hosts):
        index = self.nodes.index
        return np.array([index[h] for h in hosts if h in index], dtype=np.intp)

    def host_state(self, i):
        d = self.data[:, i]
        values = dict(zip(COLUMNS, (int(x) for x in d), strict=True))
        return host_state.HostState(
            int(self.ids[i]), self.nodes.hosts[i], self.nodes.hypervisor_hostnames[i],
            self.nodes.hypervisor_types[i], up=bool(self.up[i]),
            disabled=not self.enabled[i], availability_zone=self.zone_names[self.zone[i]],
            **values)


class HostArrays:
    """The hosts of a snapshot that passed the vector filters, as columns
    (what weights.*.raws read)."""

    def __init__(self, snap, idx, free):
        self.snap, self.idx = snap, idx
        self.free_ram_mb = free.ram_mb[idx]
        self.free_vcpus = free.vcpus[idx]
        self.free_disk_gb = free.disk_gb[idx]

    def __len__(self):
        return len(self.idx)

    def count(self, hosts):
        """How many times each host appears in ``hosts``."""
        counts = np.zeros(len(self.snap))
        np.add.at(counts, self.snap.positions(hosts), 1)
        return counts[self.idx]


# -- Filters over all hosts at once ----------------------------------------
# Each answers like the filter of the same name in scheduler/filters.py
# (which stays the reference, and explains failures): a boolean mask over
# the snapshot's hosts, or None when it removes nothing for this request.

def _compute(snap, free, spec):
    return snap.up & snap.enabled


def _retry(snap, free, spec):
    if not spec.get('ignore_hosts'):
        return None
    mask = np.ones(len(snap), dtype=bool)
    mask[snap.positions(spec['ignore_hosts'])] = False
    return mask


def _zone(snap, free, spec):
    zone = spec.get('availability_zone')
    if not zone:
        return None
    if zone not in snap.zone_names:
        return np.zeros(len(snap), dtype=bool)
    return snap.zone == snap.zone_names.index(zone)


def _ram(snap, free, spec):
    return free.ram_mb >= spec['memory_mb']


def _core(snap, free, spec):
    return free.vcpus >= spec['vcpus']


def _disk(snap, free, spec):
    return free.disk_gb >= spec['disk_gb']


def _affinity(snap, free, spec):
    group = spec.get('group') or {}
    if group.get('policy') != 'affinity' or not group.get('hosts'):
        return None
    mask = np.zeros(len(snap), dtype=bool)
    mask[snap.positions(group['hosts'])] = True
    return mask


def _anti_affinity(snap, free, spec):
    group = spec.get('group') or {}
    if group.get('policy') != 'anti-affinity' or not group.get('hosts'):
        return None
    mask = np.ones(len(snap), dtype=bool)
    mask[snap.positions(group['hosts'])] = False
    return mask


VECTOR_FILTERS = {
    'ComputeFilter': _compute,
    'RetryFilter': _retry,
    'AvailabilityZoneFilter': _zone,
    'RamFilter': _ram,
    'CoreFilter': _core,
    'DiskFilter': _disk,
    'ServerGroupAffinityFilter': _affinity,
    'ServerGroupAntiAffinityFilter': _anti_affinity,
}


def _best_first(idx, totals):
    """Positions ``idx`` by weight, best first, ties by node id; only the
    best few are sorted unless the caller reads on."""
    n = len(idx)
    if n <= 4 * TOP:
        yield from idx[np.argsort(-totals, kind='stable')].tolist()
        return
    kth = np.partition(totals, n - TOP)[n - TOP]
    top = np.flatnonzero(totals >= kth)
    yield from idx[top[np.argsort(-totals[top], kind='stable')]].tolist()
    rest = np.flatnonzero(totals < kth)
    yield from idx[rest[np.argsort(-totals[rest], kind='stable')]].tolist()


def candidates(snap, spec, enabled, subset=1, exclude=()):
    """HostStates that pass ``enabled`` filters, best first; the best
    ``subset`` of them in random order (spreads concurrent schedulers).

    RetryFilter always applies (as in filters.load). Filters without a
    vector form run in Python, on hosts in weight order, until enough pass.
    """
    names = list(dict.fromkeys(['RetryFilter'] + list(enabled)))
    py_filters = [f for f in filters.load(names) if type(f).__name__ not in VECTOR_FILTERS]
    if not len(snap):
        return
    free = Free.of(snap)
    mask = np.ones(len(snap), dtype=bool)
    for name in names:
        m = VECTOR_FILTERS[name](snap, free, spec) if name in VECTOR_FILTERS else None
        if m is not None:
            mask &= m
    mask[snap.positions(exclude)] = False
    if spec.get('requested_host'):  # a move to a named host: only that one
        only = np.zeros(len(snap), dtype=bool)
        only[snap.positions([spec['requested_host']])] = True
        mask &= only
    idx = np.flatnonzero(mask)
    if not len(idx):
        return
    totals = weights.weigh_arrays(HostArrays(snap, idx, free), spec)
    passing = (h for h in map(snap.host_state, _best_first(idx, totals))
               if all(f.host_passes(h, spec) for f in py_filters))
    head = list(itertools.islice(passing, subset))
    random.shuffle(head)
    yield from head
    yield from passing


class HostCache:
    """The snapshot of one database, refreshed in the background, changed
    in place by this process's own claims."""

    def __init__(self, url):
        self.url = url
        self.pid = os.getpid()
        self._engine = db_api.create_engine(url, immediate=False)
        self._lock = threading.Lock()          # the snapshot and the change log
        self._refresh_lock = threading.Lock()  # one read at a time
        self._snap = None
        self._nodes = None
        self._orphans = None  # ((signature, nodes read at), [node ids])
        self._seq = 0
        # Changes made since a read began are applied again to what it read:
        # (seq, fn(snapshot)). A read that already saw a claim gets it twice,
        # which only makes that host look fuller until the next read.
        self._log = []
        self._stop = threading.Event()
        self._thread = None

    # -- reading ---------------------------------------------------------
    def snapshot(self, max_age=None):
        """The current snapshot; re-read first when older than ``max_age``."""
        if max_age is None:
            max_age = MAX_AGE if self._thread is None else REFRESH_INTERVAL + MAX_AGE
        snap = self._snap
        if snap is None or time.monotonic() - snap.loaded_at > max_age:
            return self.refresh()
        return snap

    def refresh(self):
        """Read every host again; returns the new snapshot."""
        asked = time.monotonic()
        with self._refresh_lock:
            snap = self._snap
            if snap is not None and snap.loaded_at >= asked:
                return snap  # another thread read while we waited
            with self._lock:
                seq = self._seq
            snap = self._read(seq)
            with self._lock:
                for change_seq, change in self._log:
                    if change_seq > seq:
                        change(snap)
                self._log = [e for e in self._log if e[0] > seq]
                self._snap = snap
        return snap

    def _read(self, seq):
        started = time.monotonic()
        with db_api.lost_as_retryable(), self._engine.connect() as conn:
            cutoff = _cutoff(conn)
            usage = _plain_rows(conn, _USAGE)
            ids = np.array([r[0] for r in usage], dtype=np.int64)
            nodes = self._nodes
            if (nodes is None or not np.array_equal(ids, nodes.ids)
                    or started - nodes.read_at > NODES_INTERVAL):
                nodes = self._nodes = Nodes.read(conn)
            sig = tuple(conn.execute(_SERVICES_SIG).one())
            if self._orphans is None or self._orphans[0] != (sig, nodes.read_at):
                self._orphans = ((sig, nodes.read_at), conn.execute(_ORPHANS).scalars().all())
            not_ok = conn.execute(_not_ok_query(cutoff)).all()
            zones = conn.execute(host_state.zone_query()).all()
        used = np.ascontiguousarray(_table(usage, 1 + len(USAGE))[:, 1:].T)
        if not np.array_equal(ids, nodes.ids):
            # A node came or went between the reads: keep the ones both saw
            # (the next read sees the rest).
            used = used[:, np.isin(ids, nodes.ids)]
            nodes = nodes.only(np.isin(nodes.ids, ids))
        data = np.concatenate([nodes.totals, used])
        up = np.ones(len(nodes.ids), dtype=bool)
        enabled = np.ones(len(nodes.ids), dtype=bool)
        # A host this process heard from but whose heartbeat is not in the
        # database yet (it was away a moment: the writes wait) is up.
        heard = servicegroup.heard_since(host_state.COMPUTE_BINARY, cutoff) if not_ok else ()
        for host, host_up, host_enabled, forced_down in not_ok:
            i = nodes.index.get(host)
            if i is not None:
                up[i] = bool(host_up) or (not forced_down and host in heard)
                enabled[i] = bool(host_enabled)
        orphans = np.isin(nodes.ids, self._orphans[1])
        up[orphans] = enabled[orphans] = False
        zone_names = [CONF.default_availability_zone]
        zone = np.zeros(len(nodes.ids), dtype=np.int32)
        for host, az in zones:
            i = nodes.index.get(host)
            if i is None:
                continue
            if az not in zone_names:
                zone_names.append(az)
            zone[i] = zone_names.index(az)
        snap = Snapshot(nodes, data, up, enabled, zone, zone_names, started, seq)
        snap.read_seconds = time.monotonic() - started
        return snap

    # -- changes ---------------------------------------------------------
    def _record(self, change):
        with self._lock:
            self._seq += 1
            self._log.append((self._seq, change))
            if self._snap is not None:
                change(self._snap)

    def consumed(self, node_id, req):
        """This process just claimed ``req`` on ``node_id``."""
        delta = (req['vcpus'], req['memory_mb'], req['disk_gb'])

        def change(snap):
            i = snap.position(node_id)
            if i is not None:
                snap.vcpus_used[i] += delta[0]
                snap.memory_mb_used[i] += delta[1]
                snap.local_gb_used[i] += delta[2]
        self._record(change)

    def reload_nodes(self, node_ids):
        """Re-read a few nodes (after a failed claim or a release)."""
        with db_api.lost_as_retryable(), self._engine.connect() as conn:
            rows = conn.execute(_rows_query(_cutoff(conn), node_ids)).all()

        def change(snap):
            for r in rows:
                i = snap.position(r[0])
                if i is not None:
                    snap.data[:, i] = r[1:1 + len(COLUMNS)]
                    snap.nodes.totals[:, i] = r[1:1 + len(TOTALS)]
                    snap.up[i], snap.enabled[i] = bool(r[-2]), bool(r[-1])
        self._record(change)

    # -- background --------------------------------------------------------
    def start(self, interval=REFRESH_INTERVAL):
        self._thread = threading.Thread(target=self._run, args=(interval,),
                                        name='host-cache-refresh', daemon=True)
        self._thread.start()

    def _run(self, interval):
        while True:
            snap = self._snap
            age = time.monotonic() - snap.loaded_at if snap is not None else interval
            if self._stop.wait(max(0.0, interval - age)):
                return
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - keep refreshing; placement re-reads on demand
                LOG.exception('Refreshing the host cache failed')
                if self._stop.wait(interval):
                    return

    def stop(self):
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None
        if self.pid == os.getpid():
            self._engine.dispose()


_cache = None
_cache_lock = threading.Lock()


def get():
    """This process's cache of the configured database (made on first use)."""
    global _cache
    url = CONF.database.connection
    with _cache_lock:
        cache = _cache
        if cache is None or cache.url != url or cache.pid != os.getpid():
            if cache is not None and cache.pid == os.getpid():
                cache.stop()
            cache = _cache = HostCache(url)
            if BACKGROUND:
                cache.start()
    return cache


def reset():
    """Forget the cache (tests; a process that changes databases)."""
    global _cache
    with _cache_lock:
        if _cache is not None and _cache.pid == os.getpid():
            _cache.stop()
        _cache = None
