"""Service records: heartbeats in, up/down out.

A service with database access reports here directly; a compute agent
(no database credentials) reports over RPC to the scheduler, which calls
``report`` for it.
"""

import datetime
import threading
import uuid

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common import exception
from common.conf import CONF
from common.db import api as db_api
from common.db import models


def report(host, binary, topic=None, zone=None, seen_at=None):
    """Record a heartbeat; creates the record on first report.

    ``seen_at`` is when the service sent it (a heartbeat relayed over the
    bus may arrive late; a late one must not make a dead service look up).
    """
    now = models.utcnow()
    seen_at = min(seen_at, now) if seen_at else now
    values = {'last_seen_up': seen_at, 'updated_at': seen_at,
              'report_count': models.ServiceRecord.report_count + 1}
    if topic is not None:
        values['topic'] = topic
    if zone is not None:
        values['zone'] = zone
    for _attempt in range(3):
        with db_api.session() as s:
            rec = models.ServiceRecord
            res = s.execute(sa.update(rec)
                            .where(rec.host == host, rec.binary == binary,
                                   sa.or_(rec.last_seen_up.is_(None),
                                          rec.last_seen_up <= seen_at))
                            .values(**values))
            if res.rowcount:
                return
            if s.scalar(sa.select(rec.id).where(rec.host == host, rec.binary == binary)):
                return  # a newer heartbeat is already recorded
        try:
            with db_api.session() as s:
                s.add(models.ServiceRecord(
                    uuid=str(uuid.uuid4()), host=host, binary=binary, topic=topic,
                    zone=zone or 'internal', disabled=False, forced_down=False,
                    report_count=1, last_seen_up=seen_at, updated_at=seen_at,
                    created_at=now))
            return
        except sa_exc.IntegrityError:
            continue  # another copy created it first: update next round


# Heartbeats relayed for services without database access (compute agents)
# are written every WRITE_INTERVAL seconds, up to CHUNK hosts a statement.
WRITE_INTERVAL = 1.0
CHUNK = 500

_S = models.ServiceRecord
# The heartbeats sent in one second by many services of one binary: one
# UPDATE (a service whose record holds a newer one is left alone).
_BEATS = (sa.update(_S)
          .where(_S.binary == sa.bindparam('b_binary'),
                 _S.host.in_(sa.bindparam('b_hosts', expanding=True)),
                 sa.or_(_S.last_seen_up.is_(None), _S.last_seen_up <= sa.bindparam('b_seen')))
          .values(last_seen_up=sa.bindparam('b_seen'), updated_at=sa.bindparam('b_seen'),
                  report_count=_S.report_count + sa.bindparam('b_count'),
                  topic=sa.func.coalesce(sa.bindparam('b_topic', type_=sa.String),
                                         _S.topic)))


# The process's Heartbeats (the scheduler's), for its host cache.
_HEARD = [None]


class Heartbeats:
    """Relayed heartbeats, written together (the scheduler's, for the
    compute agents: at 5,000 hosts 500 a second, a transaction each cost
    more CPU than a core has).

    ``add`` keeps the newest heartbeat of each service in memory; ``write``
    (every WRITE_INTERVAL seconds, and when the service stops) records all
    of them in one UPDATE per second in which they were sent, each written
    as sent at the start of its second (at most a second older, never
    newer: a dead service never looks up longer). A heartbeat not written
    yet when the process dies only counts as late; one that failed to
    write waits for the next write.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pending = {}  # (binary, topic, host): (newest seen_at, heartbeats)
        self._newest = {}   # (binary, host): newest seen_at, written or not
        _HEARD[0] = self    # the process's relay (the scheduler's one)

    def add(self, host, binary, topic, seen_at=None):
        now = models.utcnow()
        seen_at = min(seen_at, now) if seen_at else now
        key = (binary, topic, host)
        with self._lock:
            old = self._pending.get(key)
            self._pending[key] = (max(old[0], seen_at), old[1] + 1) if old else (seen_at, 1)
            if self._newest.get((binary, host), seen_at) <= seen_at:
                self._newest[(binary, host)] = seen_at

    def heard_since(self, binary, since):
        """Hosts of ``binary`` this process heard from at ``since`` or later,
        whether the database has their heartbeat yet or not (it may have
        been away: they are alive all the same)."""
        with self._lock:
            return {h for (b, h), seen in self._newest.items() if b == binary and seen >= since}

    def __len__(self):
        return len(self._pending)

    def write(self):
        """Record every pending heartbeat; how many services were written."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        total = len(pending)
        try:
            _write_beats(pending)
        except Exception:
            with self._lock:  # what was not written goes back, merged with newer ones
                for key, (seen, count) in pending.items():
                    new = self._pending.get(key)
                    self._pending[key] = (max(seen, new[0]), count + new[1]) if new else (
                        seen, count)
            raise
        return total


def heard_since(binary, since):
    """What this process's Heartbeats heard from since ``since`` (empty in
    a process that relays none)."""
    beats = _HEARD[0]
    return beats.heard_since(binary, since) if beats is not None else set()


def _write_beats(pending):
    """Write ``pending`` ({(binary, topic, host): (seen_at, count)}); each
    entry written is removed from it."""
    groups = {}
    for (binary, topic, host), (seen, count) in pending.items():
        groups.setdefault((binary, topic, seen.replace(microsecond=0), count),
                          []).append(host)
    for (binary, topic, second, count), hosts in groups.items():
        hosts.sort()
        for i in range(0, len(hosts), CHUNK):
            chunk = hosts[i:i + CHUNK]
            with db_api.connection() as conn:
                res = conn.execute(_BEATS, {'b_binary': binary, 'b_hosts': chunk,
                                            'b_seen': second, 'b_count': count,
                                            'b_topic': topic})
            if res.rowcount < len(chunk):
                # New services (or records holding a newer heartbeat): the
                # first heartbeat makes the record.
                with db_api.reader() as s:
                    known = set(s.scalars(sa.select(_S.host).where(
                        _S.binary == binary, _S.host.in_(chunk))))
                for host in chunk:
                    if host not in known:
                        report(host, binary, topic, seen_at=second)
            for host in chunk:
                del pending[(binary, topic, host)]


def is_up(record, now=None):
    if record.forced_down or record.last_seen_up is None:
        return False
    now = now or models.utcnow()
    return now - record.last_seen_up <= datetime.timedelta(seconds=CONF.service_down_time)


def list_services(binary=None, host=None, hosts=None):
    """Records by id; of ``binary``, of ``host`` or of any of ``hosts``."""
    with db_api.reader() as s:
        q = sa.select(models.ServiceRecord).order_by(models.ServiceRecord.id)
        if binary:
            q = q.where(models.ServiceRecord.binary == binary)
        if host:
            q = q.where(models.ServiceRecord.host == host)
        if hosts is not None:
            q = q.where(models.ServiceRecord.host.in_(sorted(hosts)))
        return list(s.scalars(q))


def get_service(service_id):
    """By uuid, or by integer id (microversions before 2.53)."""
    col = models.ServiceRecord.uuid
    if isinstance(service_id, int) or str(service_id).isdigit():
        col = models.ServiceRecord.id
        service_id = int(service_id)
    with db_api.reader() as s:
        rec = s.scalars(sa.select(models.ServiceRecord).where(col == service_id)).first()
    if rec is None:
        raise exception.ResourceNotFound(kind='service', id=service_id)
    return rec


def update_service(service_uuid, **values):
    values['updated_at'] = models.utcnow()
    with db_api.session() as s:
        rec = s.scalars(sa.select(models.ServiceRecord)
                        .where(models.ServiceRecord.uuid == service_uuid)).first()
        if rec is None:
            raise exception.ResourceNotFound(kind='service', id=service_uuid)
        for k, v in values.items():
            setattr(rec, k, v)
    return rec


def delete_service(service_uuid):
    with db_api.session() as s:
        res = s.execute(sa.delete(models.ServiceRecord)
                        .where(models.ServiceRecord.uuid == service_uuid))
    if not res.rowcount:
        raise exception.ResourceNotFound(kind='service', id=service_uuid)
