"""Service records: heartbeats in, up/down out.

A service with database access reports here directly; a compute agent
(no database credentials) reports over RPC to the scheduler, which calls
``report`` for it.
"""

import datetime
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
