"""Volume snapshots: create (taking quota), list, update, delete, and the
volume service's compare-and-set status changes.
"""

import datetime
import uuid

import sqlalchemy as sa

from blockstore import exception
from blockstore import quota as volume_quota
from blockstore import views
from blockstore import volumes
from common.db import api as db_api
from common.db import volume_models as vm
from common.db.models import utcnow


def get_snapshot(snapshot_id, project_id=None):
    with db_api.reader() as s:
        return views.snapshot_to_dict(views.snapshot_row(s, snapshot_id, project_id))


def create_snapshot(values, force=False):
    """Record a snapshot of values['volume_id'] in 'creating', taking its
    quota (snapshots +1, gigabytes +size). The volume must be available, or
    in-use with ``force``."""
    values = dict(values)
    meta = values.pop('metadata', None) or {}
    with db_api.session() as s:
        vol = views.volume_row(s, values['volume_id'], values['project_id'])
        if vol.status != volumes.AVAILABLE and not (force and vol.status == volumes.IN_USE):
            raise exception.InvalidVolume(reason='Volume %s status must be available, but '
                                          'current status is: %s.' % (vol.id, vol.status))
        volume_quota.check(s, vol.project_id, snapshots=1, gigabytes=vol.size)
        now = utcnow()
        row = vm.VolumeSnapshot(id=str(uuid.uuid4()), size=vol.size, status=volumes.CREATING,
                                metadata_=meta, created_at=now, updated_at=now,
                                deleted=False, **values)
        s.add(row)
        s.flush()
        return views.snapshot_to_dict(row)


def list_snapshots(project_id=None, filters=None, limit=None, marker=None, sort=None):
    filters = filters or {}
    S = vm.VolumeSnapshot
    with db_api.reader() as s:
        q = sa.select(S).where(S.deleted.is_(False))
        if project_id is not None:
            q = q.where(S.project_id == project_id)
        for key in ('name', 'status', 'volume_id'):
            if filters.get(key) is not None:
                q = q.where(getattr(S, key) == filters[key])
        rows = views.sorted_paged(s, list(s.scalars(q)), sort, limit, marker,
                                  exception.SnapshotNotFound, 'snapshot_id')
        return [views.snapshot_to_dict(r) for r in rows]


def update_snapshot(snapshot_id, project_id, values):
    with db_api.session() as s:
        row = views.snapshot_row(s, snapshot_id, project_id)
        for key, val in values.items():
            setattr(row, 'metadata_' if key == 'metadata' else key, val)
        row.updated_at = utcnow()
        s.flush()
        return views.snapshot_to_dict(row)


def begin_delete_snapshot(snapshot_id, project_id, force=False):
    with db_api.session() as s:
        row = views.snapshot_row(s, snapshot_id, project_id)
        if row.status not in (volumes.AVAILABLE, volumes.ERROR) and \
                not (force and row.status != volumes.DELETING):
            raise exception.InvalidSnapshot(reason='Snapshot status must be available or error '
                                            'and must not be part of a group.')
        row.status, row.updated_at = volumes.DELETING, utcnow()
        s.flush()
        return views.snapshot_to_dict(row)


def snapshot_set_status(snapshot_id, status, expected=None, **values):
    """Compare-and-set of a snapshot's status; the dict or None."""
    S = vm.VolumeSnapshot
    cond = [S.id == snapshot_id, S.deleted.is_(False)]
    if expected is not None:
        cond.append(S.status.in_(list(expected)))
    with db_api.session() as s:
        res = s.execute(sa.update(S).where(*cond).values(status=status, updated_at=utcnow(),
                                                         **values))
        if res.rowcount != 1:
            return None
        return views.snapshot_to_dict(s.get(S, snapshot_id))


def snapshot_finish_delete(snapshot_id):
    """Mark the snapshot deleted (its quota is free again); idempotent."""
    with db_api.session() as s:
        row = s.get(vm.VolumeSnapshot, snapshot_id)
        if row is None or row.deleted:
            return
        now = utcnow()
        row.deleted, row.deleted_at, row.status, row.updated_at = True, now, volumes.DELETED, now


def stuck_snapshots(statuses, older_than_seconds):
    before = utcnow() - datetime.timedelta(seconds=older_than_seconds)
    S = vm.VolumeSnapshot
    with db_api.reader() as s:
        return [views.snapshot_to_dict(r) for r in s.scalars(sa.select(S).where(
            S.deleted.is_(False), S.status.in_(list(statuses)), S.updated_at < before))]
