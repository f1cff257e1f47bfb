"""Volume records (the Cinder-compatible block storage), as plain dicts.

The volume API creates rows and moves them into a transitional status
('creating', 'deleting', 'extending'); the volume service finishes the
move with set_status()/finish_delete(), always as a compare-and-set on the
status it expects, so two actors never both win a transition. The attach
flow is in attachments.py, snapshots in snapshots.py, types in types.py,
quotas in quota.py, errors in exception.py.
"""

import datetime
import uuid

import sqlalchemy as sa

from blockstore import exception
from blockstore import quota as volume_quota
from blockstore import views
from common import exception as common_exc
from common.db import api as db_api
from common.db import volume_models as vm
from common.db.models import utcnow

# Statuses (Cinder's words).
CREATING, AVAILABLE, RESERVED, ATTACHING = 'creating', 'available', 'reserved', 'attaching'
IN_USE, DETACHING, EXTENDING, DELETING = 'in-use', 'detaching', 'extending', 'deleting'
ERROR, ERROR_DELETING, ERROR_EXTENDING = 'error', 'error_deleting', 'error_extending'
DELETED = 'deleted'
ROOT_DEVICE = 'vda'  # a server's root volume is attached here
TRANSITIONAL = (CREATING, DELETING, EXTENDING, ATTACHING, DETACHING)
# Cinder's list, plus error_deleting so a failed delete can be retried.
DELETABLE = (AVAILABLE, ERROR, 'error_restoring', ERROR_EXTENDING, 'error_managing',
             ERROR_DELETING)


def get(volume_id, project_id=None):
    """The volume (with attachments), or VolumeNotFound (404) when it is
    missing, deleted or, given ``project_id``, another project's."""
    with db_api.reader() as s:
        return views.full(s, views.volume_row(s, volume_id, project_id))


def create(values, reserve_for=None, delete_on_termination=False, device=None):
    """Record a volume in 'creating' and take its quota in one transaction.

    ``values``: project_id, user_id, size and any of name, description,
    volume_type_id, availability_zone, snapshot_id, source_volid, image_id,
    bootable, metadata, image_metadata. Raises a 413 QuotaError when over.
    ``reserve_for``: a server the new volume is made for (boot from
    volume): it gets a 'reserved' attachment at once, and finish_create()
    makes it 'attaching' instead of 'available'."""
    values = dict(values)
    meta = values.pop('metadata', None) or {}
    with db_api.session() as s:
        volume_quota.check(s, values['project_id'], volumes=1, gigabytes=values['size'],
                           size=values['size'])
        now = utcnow()
        row = vm.Volume(id=str(uuid.uuid4()), status=CREATING, metadata_=meta,
                        created_at=now, updated_at=now, deleted=False,
                        **{'availability_zone': 'nova', 'bootable': False,
                           'readonly': False, 'image_metadata': {}, **values})
        s.add(row)
        s.flush()
        if reserve_for is not None:
            s.add(vm.VolumeAttachment(id=str(uuid.uuid4()), volume_id=row.id,
                                      instance_uuid=reserve_for, status='reserved',
                                      device=device,
                                      delete_on_termination=bool(delete_on_termination),
                                      created_at=now))
            s.flush()
        return views.full(s, row)


def finish_create(volume_id, **values):
    """creating -> available, or attaching when a server already holds a
    reservation on it (boot from volume). The dict, or None when the
    volume was no longer creating."""
    with db_api.reader() as s:
        reserved = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                            .where(vm.VolumeAttachment.volume_id == volume_id))
    return set_status(volume_id, ATTACHING if reserved else AVAILABLE, expected=[CREATING],
                      **values)


def list_volumes(project_id=None, filters=None, limit=None, marker=None, sort=None):
    """Volumes of ``project_id`` (None: every project), filtered by
    {'name', 'status', 'metadata', 'bootable', 'availability_zone'}, sorted by
    ``sort`` [(key, 'asc'|'desc')] (default created_at desc), paged."""
    filters = filters or {}
    V = vm.Volume
    with db_api.reader() as s:
        q = sa.select(V).where(V.deleted.is_(False))
        if project_id is not None:
            q = q.where(V.project_id == project_id)
        for key in ('name', 'status', 'availability_zone'):
            if filters.get(key) is not None:
                q = q.where(getattr(V, key) == filters[key])
        if filters.get('bootable') is not None:
            q = q.where(V.bootable.is_(bool(filters['bootable'])))
        # Metadata is a JSON column: filtered here, but before paging, so a
        # page holds `limit` matches and the marker is one of them.
        meta = filters.get('metadata') or {}
        rows = [r for r in s.scalars(q) if all((r.metadata_ or {}).get(k) == v
                                              for k, v in meta.items())]
        rows = views.sorted_paged(s, rows, sort, limit, marker, exception.VolumeNotFound,
                                  'volume_id')
        return [views.full(s, r) for r in rows]


def update(volume_id, project_id, values):
    """Set name, description and/or metadata."""
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        for key, val in values.items():
            setattr(row, 'metadata_' if key == 'metadata' else key, val)
        row.updated_at = utcnow()
        s.flush()
        return views.full(s, row)


def set_metadata(volume_id, project_id, metadata, replace=False):
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        row.metadata_ = dict(metadata) if replace else dict(row.metadata_ or {}, **metadata)
        row.updated_at = utcnow()
        return dict(row.metadata_)


def delete_metadata_key(volume_id, project_id, key):
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        meta = dict(row.metadata_ or {})
        if key not in meta:
            raise common_exc.NotFound('Metadata item was not found')
        del meta[key]
        row.metadata_ = meta
        row.updated_at = utcnow()


def set_status(volume_id, status, expected=None, **values):
    """Compare-and-set: move the volume to ``status`` (and set ``values``:
    size, bootable, host, provider_location, image_metadata, readonly, ...)
    if its status is one of ``expected`` (any when None). The new dict, or
    None when the status was not expected or the volume is gone."""
    V = vm.Volume
    if 'metadata' in values:
        values['metadata_'] = values.pop('metadata')
    cond = [V.id == volume_id, V.deleted.is_(False)]
    if expected is not None:
        cond.append(V.status.in_(list(expected)))
    with db_api.session() as s:
        res = s.execute(sa.update(V).where(*cond).values(status=status, updated_at=utcnow(),
                                                         **values))
        if res.rowcount != 1:
            return None
        return views.full(s, s.get(V, volume_id))


_NOT_DELETABLE = ('Volume status must be available or error or error_restoring or '
                  'error_extending or error_managing and must not be migrating, attached, '
                  'belong to a group, have snapshots, awaiting a transfer, or be '
                  'disassociated from snapshots after volume transfer.')


def begin_delete(volume_id, project_id, cascade=False, force=False):
    """Check that the volume may go and set it 'deleting' (its snapshots
    too with ``cascade``). ``force`` (admin) allows any status but in-use."""
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        attached = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                            .where(vm.VolumeAttachment.volume_id == row.id))
        ok = row.status in DELETABLE or (force and row.status not in (IN_USE, ATTACHING,
                                                                      DETACHING, DELETING))
        if not ok or attached:
            raise exception.InvalidVolume(reason=_NOT_DELETABLE)
        snaps = list(s.scalars(sa.select(vm.VolumeSnapshot).where(
            vm.VolumeSnapshot.volume_id == row.id, vm.VolumeSnapshot.deleted.is_(False))))
        if snaps and not cascade:
            raise exception.InvalidVolume(reason=_NOT_DELETABLE)
        for snap in snaps:
            if snap.status not in (AVAILABLE, ERROR):
                raise exception.InvalidVolume(reason='Snapshot %s cannot be deleted in its '
                                              'status (%s).' % (snap.id, snap.status))
            snap.status, snap.updated_at = DELETING, utcnow()
        # Compare-and-set: of two racing deletes (or a delete and an attach) one wins.
        res = s.execute(sa.update(vm.Volume).where(vm.Volume.id == row.id,
                                                   vm.Volume.status == row.status)
                        .values(status=DELETING, updated_at=utcnow()))
        if res.rowcount != 1:
            raise exception.InvalidVolume(reason=_NOT_DELETABLE)
        s.refresh(row)
        out = views.full(s, row)
        out['snapshots'] = [views.snapshot_to_dict(x) for x in snaps]
        return out


def finish_delete(volume_id):
    """Mark the volume deleted (its quota is free again); idempotent."""
    with db_api.session() as s:
        row = s.get(vm.Volume, volume_id)
        if row is None or row.deleted:
            return
        now = utcnow()
        row.deleted, row.deleted_at, row.status, row.updated_at = True, now, DELETED, now
        s.execute(sa.delete(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == volume_id))


def begin_extend(volume_id, project_id, new_size, allow_in_use=False):
    """Check and take the gigabytes, set 'extending'; the volume dict."""
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        ok = (AVAILABLE, IN_USE) if allow_in_use else (AVAILABLE,)
        if row.status not in ok:
            raise exception.InvalidVolume(reason='Volume %s status must be %s to extend. '
                                          'Currently in %s status.'
                                          % (row.id, ' or '.join(ok), row.status))
        if new_size <= row.size:
            raise exception.InvalidInput(reason='New size for extend must be greater than '
                                         'current size. (current: %d, extended: %d).'
                                         % (row.size, new_size))
        volume_quota.check(s, row.project_id, gigabytes=new_size - row.size, size=new_size)
        row.status, row.updated_at = EXTENDING, utcnow()
        s.flush()
        return views.full(s, row)


def finish_extend(volume_id, new_size, ok=True):
    """The backend's answer to extend_volume: the new size (available or
    in-use as before), or error_extending with the old size."""
    with db_api.reader() as s:
        attached = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                            .where(vm.VolumeAttachment.volume_id == volume_id,
                                   vm.VolumeAttachment.status == 'attached'))
    if not ok:
        return set_status(volume_id, ERROR_EXTENDING, expected=[EXTENDING])
    return set_status(volume_id, IN_USE if attached else AVAILABLE, expected=[EXTENDING],
                      size=new_size)


def stuck(statuses, older_than_seconds):
    """Volumes in one of ``statuses`` not updated for ``older_than_seconds``."""
    before = utcnow() - datetime.timedelta(seconds=older_than_seconds)
    V = vm.Volume
    with db_api.reader() as s:
        rows = s.scalars(sa.select(V).where(V.deleted.is_(False), V.status.in_(list(statuses)),
                                            V.updated_at < before))
        return [views.full(s, r) for r in rows]


def volumes_of_host(host, statuses=None):
    V = vm.Volume
    with db_api.reader() as s:
        q = sa.select(V).where(V.deleted.is_(False), V.host == host)
        if statuses is not None:
            q = q.where(V.status.in_(list(statuses)))
        return [views.full(s, r) for r in s.scalars(q)]
