"""Volumes, snapshots, volume types, attachments and volume quotas (the
Cinder-compatible block storage), as plain dicts.

The volume API creates rows and moves them into a transitional status
('creating', 'deleting', 'extending'); the volume service finishes the
move with set_status()/finish_delete(), always as a compare-and-set on the
status it expects, so two actors never both win a transition. The compute
API's attach flow moves volumes through reserve() -> attach_complete() and
begin_detaching() -> detach_complete() (or unreserve()/roll_detaching()).

Quotas (volumes, gigabytes, snapshots; defaults from [volume] quota_*,
overrides in volume_quotas) are checked by counting inside the transaction
that adds: on SQLite the writer holds the lock from BEGIN, so count-then-add
is exact; deleted rows stop counting, which is how quota is given back.
gigabytes counts volumes and snapshots, as Cinder does.
"""

import datetime
import uuid

import sqlalchemy as sa

from common import exception
from common import quota
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
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

QUOTA_RESOURCES = ('volumes', 'gigabytes', 'snapshots', 'per_volume_gigabytes',
                   'backups', 'backup_gigabytes', 'groups')
# Resources without an option of their own: fixed (we have no backups or groups).
_FIXED = {'backups': 0, 'backup_gigabytes': 0, 'groups': 10}


# --- errors (Cinder's texts) --------------------------------------------------

class VolumeNotFound(exception.NotFound):
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class SnapshotNotFound(exception.NotFound):
    msg_fmt = 'Snapshot %(snapshot_id)s could not be found.'


class VolumeTypeNotFound(exception.NotFound):
    msg_fmt = 'Volume type %(volume_type_id)s could not be found.'


class VolumeTypeNotFoundByName(exception.NotFound):
    msg_fmt = 'Volume type with name %(volume_type_name)s could not be found.'


class AttachmentNotFound(exception.NotFound):
    msg_fmt = 'Volume attachment could not be found with filter: %(filter)s.'


class InvalidInput(exception.BadRequest):
    msg_fmt = 'Invalid input received: %(reason)s'


class InvalidVolume(exception.BadRequest):
    msg_fmt = 'Invalid volume: %(reason)s'


class InvalidSnapshot(exception.BadRequest):
    msg_fmt = 'Invalid snapshot: %(reason)s'


class VolumeInUse(exception.Conflict):
    """The attach flow's refusal (Nova words it as an invalid volume)."""
    msg_fmt = 'Invalid volume: volume %(volume_id)s already attached or in use (%(status)s).'


class QuotaError(exception.AltostackError):
    code = 413
    msg_fmt = 'Quota exceeded: code=%(code)s'


class VolumeSizeExceedsAvailableQuota(QuotaError):
    msg_fmt = ('Requested volume or snapshot exceeds allowed %(name)s quota. Requested '
               '%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.')


class VolumeSizeExceedsLimit(QuotaError):
    msg_fmt = ('Requested volume size %(size)dG is larger than maximum allowed limit '
               '%(limit)dG.')


class VolumeLimitExceeded(QuotaError):
    msg_fmt = "Maximum number of volumes allowed (%(allowed)d) exceeded for quota '%(name)s'."


class SnapshotLimitExceeded(QuotaError):
    msg_fmt = 'Maximum number of snapshots allowed (%(allowed)d) exceeded'


def _uuid_or_none(text):
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


# --- dicts --------------------------------------------------------------------

def attachment_to_dict(row):
    return {'id': row.id, 'volume_id': row.volume_id, 'instance_uuid': row.instance_uuid,
            'status': row.status, 'host_name': row.host_name, 'device': row.device,
            'delete_on_termination': row.delete_on_termination,
            'attached_at': row.attached_at, 'created_at': row.created_at}


def to_dict(row, attachments=None, volume_type_name=None):
    """A volume row as a plain dict (attachments: its attachment dicts)."""
    return {'id': row.id, 'project_id': row.project_id, 'user_id': row.user_id,
            'name': row.name, 'description': row.description, 'size': row.size,
            'status': row.status, 'availability_zone': row.availability_zone,
            'volume_type_id': row.volume_type_id, 'volume_type_name': volume_type_name,
            'snapshot_id': row.snapshot_id, 'source_volid': row.source_volid,
            'image_id': row.image_id, 'bootable': row.bootable, 'readonly': row.readonly,
            'metadata': dict(row.metadata_ or {}),
            'image_metadata': dict(row.image_metadata or {}),
            'host': row.host, 'provider_location': row.provider_location,
            'created_at': row.created_at, 'updated_at': row.updated_at,
            'deleted': row.deleted, 'deleted_at': row.deleted_at,
            'attachments': list(attachments or [])}


def snapshot_to_dict(row):
    return {'id': row.id, 'project_id': row.project_id, 'user_id': row.user_id,
            'volume_id': row.volume_id, 'name': row.name, 'description': row.description,
            'size': row.size, 'status': row.status, 'metadata': dict(row.metadata_ or {}),
            'created_at': row.created_at, 'updated_at': row.updated_at,
            'deleted': row.deleted}


def type_to_dict(row):
    return {'id': row.id, 'name': row.name, 'description': row.description,
            'is_public': row.is_public, 'extra_specs': dict(row.extra_specs or {}),
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _full(s, row):
    atts = [attachment_to_dict(a) for a in s.scalars(
        sa.select(vm.VolumeAttachment).where(vm.VolumeAttachment.volume_id == row.id)
        .order_by(vm.VolumeAttachment.created_at))]
    tname = None
    if row.volume_type_id:
        tname = s.scalar(sa.select(vm.VolumeType.name).where(
            vm.VolumeType.id == row.volume_type_id))
    return to_dict(row, atts, tname)


def _row(s, volume_id, project_id=None, deleted=False):
    vid = _uuid_or_none(volume_id)
    row = s.get(vm.Volume, vid) if vid else None
    if row is None or (row.deleted and not deleted) or \
            (project_id is not None and row.project_id != project_id):
        raise VolumeNotFound(volume_id=volume_id)
    return row


def _snap_row(s, snapshot_id, project_id=None, deleted=False):
    sid = _uuid_or_none(snapshot_id)
    row = s.get(vm.VolumeSnapshot, sid) if sid else None
    if row is None or (row.deleted and not deleted) or \
            (project_id is not None and row.project_id != project_id):
        raise SnapshotNotFound(snapshot_id=snapshot_id)
    return row


# --- volume types -------------------------------------------------------------

def list_types(is_public=True):
    """is_public: True (public only), False (private only) or None (all)."""
    with db_api.reader() as s:
        q = sa.select(vm.VolumeType).order_by(vm.VolumeType.name)
        if is_public is not None:
            q = q.where(vm.VolumeType.is_public.is_(bool(is_public)))
        return [type_to_dict(r) for r in s.scalars(q)]


def _type_row(s, id_or_name):
    tid = _uuid_or_none(id_or_name)
    row = s.get(vm.VolumeType, tid) if tid else None
    if row is None:
        row = s.scalars(sa.select(vm.VolumeType).where(
            vm.VolumeType.name == str(id_or_name))).first()
    return row


def get_type(id_or_name, by_name_error=False):
    with db_api.reader() as s:
        row = _type_row(s, id_or_name)
        if row is None:
            if by_name_error:
                raise VolumeTypeNotFoundByName(volume_type_name=id_or_name)
            raise VolumeTypeNotFound(volume_type_id=id_or_name)
        return type_to_dict(row)


def default_type():
    return get_type(CONF.volume.default_volume_type)


def create_type(name, description=None, is_public=True, extra_specs=None):
    with db_api.session() as s:
        if s.scalar(sa.select(vm.VolumeType.id).where(vm.VolumeType.name == name)):
            raise exception.Conflict(reason='Volume Type %s already exists.' % name)
        row = vm.VolumeType(id=str(uuid.uuid4()), name=name, description=description,
                            is_public=is_public, extra_specs=dict(extra_specs or {}))
        s.add(row)
        s.flush()
        return type_to_dict(row)


def ensure_type(name, description=None):
    """The type named ``name``, made if missing (bootstrap; idempotent)."""
    with db_api.reader() as s:
        row = s.scalars(sa.select(vm.VolumeType).where(vm.VolumeType.name == name)).first()
        if row is not None:
            return type_to_dict(row)
    return create_type(name, description)


def delete_type(type_id):
    with db_api.session() as s:
        row = s.get(vm.VolumeType, _uuid_or_none(type_id) or '')
        if row is None:
            raise VolumeTypeNotFound(volume_type_id=type_id)
        if row.name == CONF.volume.default_volume_type:
            raise exception.BadRequest('Target volume type is still in use. Can not '
                                       'delete the default volume type.')
        if s.scalar(sa.select(vm.Volume.id).where(vm.Volume.volume_type_id == row.id,
                                                  vm.Volume.deleted.is_(False)).limit(1)):
            raise exception.BadRequest('Target volume type is still in use.')
        s.delete(row)


# --- quotas -------------------------------------------------------------------

def quota_defaults():
    v = CONF.volume
    out = {'volumes': v.quota_volumes, 'gigabytes': v.quota_gigabytes,
           'snapshots': v.quota_snapshots, 'per_volume_gigabytes': v.per_volume_gigabytes}
    out.update(_FIXED)
    return out


def limits(project_id, s=None):
    """{resource: limit} of ``project_id`` (-1: unlimited)."""
    if s is None:
        with db_api.reader() as s2:
            return limits(project_id, s2)
    out = quota_defaults()
    for row in s.scalars(sa.select(vm.VolumeQuota).where(
            vm.VolumeQuota.project_id == project_id)):
        out[row.resource] = row.hard_limit
    return out


def _usage(s, project_id):
    V, S = vm.Volume, vm.VolumeSnapshot
    nvol, vgb = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(V.size), 0))
                          .where(V.project_id == project_id, V.deleted.is_(False))).one()
    nsnap, sgb = s.execute(sa.select(sa.func.count(),
                                     sa.func.coalesce(sa.func.sum(S.size), 0))
                           .where(S.project_id == project_id, S.deleted.is_(False))).one()
    return {'volumes': int(nvol), 'gigabytes': int(vgb) + int(sgb), 'snapshots': int(nsnap),
            'backups': 0, 'backup_gigabytes': 0, 'groups': 0}


def usage(project_id):
    """{'volumes', 'gigabytes', 'snapshots', ...: in use} of ``project_id``."""
    with db_api.reader() as s:
        return _usage(s, project_id)


def _check_quota(s, project_id, volumes=0, gigabytes=0, snapshots=0, size=None):
    lim = limits(project_id, s)
    if size is not None and lim['per_volume_gigabytes'] >= 0 and \
            size > lim['per_volume_gigabytes']:
        raise VolumeSizeExceedsLimit(size=size, limit=lim['per_volume_gigabytes'])
    used = _usage(s, project_id)
    if gigabytes and lim['gigabytes'] >= 0 and used['gigabytes'] + gigabytes > lim['gigabytes']:
        raise VolumeSizeExceedsAvailableQuota(name='gigabytes', requested=gigabytes,
                                              quota=lim['gigabytes'],
                                              consumed=used['gigabytes'])
    if volumes and lim['volumes'] >= 0 and used['volumes'] + volumes > lim['volumes']:
        raise VolumeLimitExceeded(allowed=lim['volumes'], name='volumes')
    if snapshots and lim['snapshots'] >= 0 and used['snapshots'] + snapshots > lim['snapshots']:
        raise SnapshotLimitExceeded(allowed=lim['snapshots'])


def set_limits(project_id, values):
    quota.store_limits(vm.VolumeQuota, project_id, values)


def reset_limits(project_id):
    with db_api.session() as s:
        s.execute(sa.delete(vm.VolumeQuota).where(vm.VolumeQuota.project_id == project_id))


# --- volumes ------------------------------------------------------------------

def get(volume_id, project_id=None):
    """The volume (with attachments), or VolumeNotFound (404) when it is
    missing, deleted or, given ``project_id``, another project's."""
    with db_api.reader() as s:
        return _full(s, _row(s, volume_id, project_id))


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
        _check_quota(s, values['project_id'], volumes=1, gigabytes=values['size'],
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
        return _full(s, row)


def finish_create(volume_id, **values):
    """creating -> available, or attaching when a server already holds a
    reservation on it (boot from volume). The dict, or None when the
    volume was no longer creating."""
    with db_api.reader() as s:
        reserved = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                            .where(vm.VolumeAttachment.volume_id == volume_id))
    return set_status(volume_id, ATTACHING if reserved else AVAILABLE, expected=[CREATING],
                      **values)


_SORT_KEYS = ('created_at', 'updated_at', 'id', 'name', 'size', 'status')


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
        rows = _sorted_paged(s, rows, sort, limit, marker, VolumeNotFound, 'volume_id')
        return [_full(s, r) for r in rows]


def _sorted_paged(s, rows, sort, limit, marker, not_found, marker_kw):
    keys = sort or [('created_at', 'desc')]
    for key, direction in reversed(list(keys) + [('id', 'asc')]):
        if key not in _SORT_KEYS:
            raise InvalidInput(reason='Invalid sort key %s' % key)
        rows.sort(key=lambda r, k=key: (getattr(r, k) is None,
                                         0 if getattr(r, k) is None else getattr(r, k)),
                  reverse=(direction == 'desc'))
    if marker:
        ids = [r.id for r in rows]
        if marker not in ids:
            raise not_found(**{marker_kw: marker})
        rows = rows[ids.index(marker) + 1:]
    if limit is not None:
        rows = rows[:limit]
    return rows


def update(volume_id, project_id, values):
    """Set name, description and/or metadata."""
    with db_api.session() as s:
        row = _row(s, volume_id, project_id)
        for key, val in values.items():
            setattr(row, 'metadata_' if key == 'metadata' else key, val)
        row.updated_at = utcnow()
        s.flush()
        return _full(s, row)


def set_metadata(volume_id, project_id, metadata, replace=False):
    with db_api.session() as s:
        row = _row(s, volume_id, project_id)
        row.metadata_ = dict(metadata) if replace else dict(row.metadata_ or {}, **metadata)
        row.updated_at = utcnow()
        return dict(row.metadata_)


def delete_metadata_key(volume_id, project_id, key):
    with db_api.session() as s:
        row = _row(s, volume_id, project_id)
        meta = dict(row.metadata_ or {})
        if key not in meta:
            raise exception.NotFound('Metadata item was not found')
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
        return _full(s, s.get(V, volume_id))


_NOT_DELETABLE = ('Volume status must be available or error or error_restoring or '
                  'error_extending or error_managing and must not be migrating, attached, '
                  'belong to a group, have snapshots, awaiting a transfer, or be '
                  'disassociated from snapshots after volume transfer.')


def begin_delete(volume_id, project_id, cascade=False, force=False):
    """Check that the volume may go and set it 'deleting' (its snapshots
    too with ``cascade``). ``force`` (admin) allows any status but in-use."""
    with db_api.session() as s:
        row = _row(s, volume_id, project_id)
        attached = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                            .where(vm.VolumeAttachment.volume_id == row.id))
        ok = row.status in DELETABLE or (force and row.status not in (IN_USE, ATTACHING,
                                                                      DETACHING, DELETING))
        if not ok or attached:
            raise InvalidVolume(reason=_NOT_DELETABLE)
        snaps = list(s.scalars(sa.select(vm.VolumeSnapshot).where(
            vm.VolumeSnapshot.volume_id == row.id, vm.VolumeSnapshot.deleted.is_(False))))
        if snaps and not cascade:
            raise InvalidVolume(reason=_NOT_DELETABLE)
        for snap in snaps:
            if snap.status not in (AVAILABLE, ERROR):
                raise InvalidVolume(reason='Snapshot %s cannot be deleted in its status '
                                    '(%s).' % (snap.id, snap.status))
            snap.status, snap.updated_at = DELETING, utcnow()
        # Compare-and-set: of two racing deletes (or a delete and an attach) one wins.
        res = s.execute(sa.update(vm.Volume).where(vm.Volume.id == row.id,
                                                   vm.Volume.status == row.status)
                        .values(status=DELETING, updated_at=utcnow()))
        if res.rowcount != 1:
            raise InvalidVolume(reason=_NOT_DELETABLE)
        s.refresh(row)
        out = _full(s, row)
        out['snapshots'] = [snapshot_to_dict(x) for x in snaps]
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
        row = _row(s, volume_id, project_id)
        ok = (AVAILABLE, IN_USE) if allow_in_use else (AVAILABLE,)
        if row.status not in ok:
            raise InvalidVolume(reason='Volume %s status must be %s to extend. Currently in '
                                '%s status.' % (row.id, ' or '.join(ok), row.status))
        if new_size <= row.size:
            raise InvalidInput(reason='New size for extend must be greater than current '
                               'size. (current: %d, extended: %d).' % (row.size, new_size))
        _check_quota(s, row.project_id, gigabytes=new_size - row.size, size=new_size)
        row.status, row.updated_at = EXTENDING, utcnow()
        s.flush()
        return _full(s, row)


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
        return [_full(s, r) for r in rows]


def volumes_of_host(host, statuses=None):
    V = vm.Volume
    with db_api.reader() as s:
        q = sa.select(V).where(V.deleted.is_(False), V.host == host)
        if statuses is not None:
            q = q.where(V.status.in_(list(statuses)))
        return [_full(s, r) for r in s.scalars(q)]


# --- the attach flow (called by the compute API) ------------------------------

def reserve(volume_id, project_id, instance_uuid, delete_on_termination=False, device=None):
    """available -> attaching with a 'reserved' attachment (at ``device``,
    'vda' for a root volume); the attachment dict. In use or busy:
    VolumeInUse (409); another project's: 404."""
    with db_api.session() as s:
        row = _row(s, volume_id, project_id)
        res = s.execute(sa.update(vm.Volume).where(
            vm.Volume.id == row.id, vm.Volume.status == AVAILABLE,
            vm.Volume.deleted.is_(False)).values(status=ATTACHING, updated_at=utcnow()))
        if res.rowcount != 1:
            s.refresh(row)
            raise VolumeInUse(volume_id=row.id, status=row.status)
        att = vm.VolumeAttachment(id=str(uuid.uuid4()), volume_id=row.id,
                                  instance_uuid=instance_uuid, status='reserved',
                                  device=device, delete_on_termination=bool(delete_on_termination),
                                  created_at=utcnow())
        s.add(att)
        s.flush()
        return attachment_to_dict(att)


def _attachment(s, attachment_id):
    att = s.get(vm.VolumeAttachment, attachment_id)
    if att is None:
        raise AttachmentNotFound(filter='id=%s' % attachment_id)
    return att


def attach_complete(attachment_id, host_name, device):
    """attaching -> in-use; the attachment is 'attached'. The volume dict."""
    with db_api.session() as s:
        att = _attachment(s, attachment_id)
        now = utcnow()
        att.status, att.host_name, att.device, att.attached_at = 'attached', host_name, \
            device, now
        s.execute(sa.update(vm.Volume).where(vm.Volume.id == att.volume_id)
                  .values(status=IN_USE, updated_at=now))
        s.flush()
        return _full(s, s.get(vm.Volume, att.volume_id))


def unreserve(attachment_id):
    """Undo reserve(): attaching -> available, the attachment removed."""
    return _drop_attachment(attachment_id, vm.Volume.status.in_([ATTACHING, RESERVED]))


def begin_detaching(volume_id, instance_uuid):
    """in-use -> detaching; the attachment dict of ``instance_uuid``.
    Not attached to it: AttachmentNotFound (404); not in-use: InvalidVolume."""
    with db_api.session() as s:
        row = _row(s, volume_id)
        att = s.scalars(sa.select(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == row.id,
            vm.VolumeAttachment.instance_uuid == instance_uuid)).first()
        if att is None:
            raise AttachmentNotFound(filter='volume_id=%s, instance_uuid=%s'
                                     % (volume_id, instance_uuid))
        res = s.execute(sa.update(vm.Volume).where(vm.Volume.id == row.id,
                                                   vm.Volume.status == IN_USE)
                        .values(status=DETACHING, updated_at=utcnow()))
        if res.rowcount != 1:
            raise InvalidVolume(reason='Unable to detach volume. Volume status must be '
                                "'in-use' and attach_status must be 'attached' to detach.")
        att.status = 'detaching'
        return attachment_to_dict(att)


def roll_detaching(volume_id):
    """Undo begin_detaching(): detaching -> in-use."""
    with db_api.session() as s:
        s.execute(sa.update(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == volume_id,
            vm.VolumeAttachment.status == 'detaching').values(status='attached'))
    return set_status(volume_id, IN_USE, expected=[DETACHING])


def detach_complete(attachment_id):
    """The attachment removed; the volume available (in-use if others remain)."""
    return _drop_attachment(attachment_id, vm.Volume.deleted.is_(False))


def _drop_attachment(attachment_id, volume_condition):
    """Remove an attachment; the volume (where ``volume_condition`` holds)
    becomes in-use if other attachments remain, else available. The volume's
    dict, or None when the attachment is already gone."""
    with db_api.session() as s:
        att = s.get(vm.VolumeAttachment, attachment_id)
        if att is None:
            return None
        vol_id = att.volume_id
        s.delete(att)
        s.flush()
        left = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                        .where(vm.VolumeAttachment.volume_id == vol_id))
        s.execute(sa.update(vm.Volume).where(vm.Volume.id == vol_id, volume_condition)
                  .values(status=IN_USE if left else AVAILABLE, updated_at=utcnow()))
        return _full(s, s.get(vm.Volume, vol_id))


def clear_attachments(volume_id):
    """Forget every attachment of the volume (an admin's reset to 'detached')."""
    with db_api.session() as s:
        s.execute(sa.delete(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == volume_id))


def attachments_of_instance(instance_uuid):
    """[{attachment_id, volume_id, device, host_name, delete_on_termination,
    status}] of a server, oldest first."""
    A = vm.VolumeAttachment
    with db_api.reader() as s:
        rows = s.scalars(sa.select(A).where(A.instance_uuid == instance_uuid)
                         .order_by(A.created_at))
        return [{'attachment_id': a.id, 'volume_id': a.volume_id, 'device': a.device,
                 'host_name': a.host_name, 'delete_on_termination': a.delete_on_termination,
                 'status': a.status} for a in rows]


def instance_block_devices(instance_uuid):
    """The volumes of a server as its compute agent needs them: [{'attachment_id',
    'instance_uuid', 'volume' (the volume dict), 'device', 'boot_index' (0 for
    the root volume, at vda, else None), 'delete_on_termination', 'status'}],
    oldest first."""
    return block_devices_of([instance_uuid])[instance_uuid]


def orphan_attachments(older_than_seconds):
    """Attachments, older than ``older_than_seconds``, whose server is
    deleted or was never recorded (its agent could not release them):
    [instance_block_devices()-shaped dicts, with 'instance_uuid']."""
    A, Inst = vm.VolumeAttachment, cm.Instance
    before = utcnow() - datetime.timedelta(seconds=older_than_seconds)
    live = sa.select(Inst.uuid).where(Inst.deleted.is_(False))
    with db_api.reader() as s:
        rows = list(s.scalars(sa.select(A).where(A.created_at < before,
                                                 A.instance_uuid.not_in(live))))
        return [_block_device(s, a) for a in rows]


def volumes_attached(instance_uuids):
    """{instance uuid: [{'id': volume id, 'delete_on_termination'}]} (the
    server view's os-extended-volumes:volumes_attached), in one query."""
    A = vm.VolumeAttachment
    out = {u: [] for u in instance_uuids}
    if not out:
        return out
    with db_api.reader() as s:
        for uuid_, vid, dot in s.execute(
                sa.select(A.instance_uuid, A.volume_id, A.delete_on_termination)
                .where(A.instance_uuid.in_(list(out))).order_by(A.created_at)):
            out[uuid_].append({'id': vid, 'delete_on_termination': bool(dot)})
    return out


def block_devices_of(instance_uuids):
    """{instance uuid: instance_block_devices(uuid)} in one query."""
    A = vm.VolumeAttachment
    out = {u: [] for u in instance_uuids}
    if not out:
        return out
    with db_api.reader() as s:
        for a in s.scalars(sa.select(A).where(A.instance_uuid.in_(list(out)))
                           .order_by(A.created_at)):
            out[a.instance_uuid].append(_block_device(s, a))
    return out


def _block_device(s, a):
    """An attachment row as the compute agent and the reconcile see it."""
    return {'attachment_id': a.id, 'instance_uuid': a.instance_uuid,
            'volume': _full(s, s.get(vm.Volume, a.volume_id)), 'device': a.device,
            'boot_index': 0 if a.device == ROOT_DEVICE else None,
            'delete_on_termination': a.delete_on_termination, 'status': a.status}


# --- snapshots ----------------------------------------------------------------

def get_snapshot(snapshot_id, project_id=None):
    with db_api.reader() as s:
        return snapshot_to_dict(_snap_row(s, snapshot_id, project_id))


def create_snapshot(values, force=False):
    """Record a snapshot of values['volume_id'] in 'creating', taking its
    quota (snapshots +1, gigabytes +size). The volume must be available, or
    in-use with ``force``."""
    values = dict(values)
    meta = values.pop('metadata', None) or {}
    with db_api.session() as s:
        vol = _row(s, values['volume_id'], values['project_id'])
        if vol.status != AVAILABLE and not (force and vol.status == IN_USE):
            raise InvalidVolume(reason='Volume %s status must be available, but current '
                                'status is: %s.' % (vol.id, vol.status))
        _check_quota(s, vol.project_id, snapshots=1, gigabytes=vol.size)
        now = utcnow()
        row = vm.VolumeSnapshot(id=str(uuid.uuid4()), size=vol.size, status=CREATING,
                                metadata_=meta, created_at=now, updated_at=now,
                                deleted=False, **values)
        s.add(row)
        s.flush()
        return snapshot_to_dict(row)


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
        rows = _sorted_paged(s, list(s.scalars(q)), sort, limit, marker, SnapshotNotFound,
                             'snapshot_id')
        return [snapshot_to_dict(r) for r in rows]


def update_snapshot(snapshot_id, project_id, values):
    with db_api.session() as s:
        row = _snap_row(s, snapshot_id, project_id)
        for key, val in values.items():
            setattr(row, 'metadata_' if key == 'metadata' else key, val)
        row.updated_at = utcnow()
        s.flush()
        return snapshot_to_dict(row)


def begin_delete_snapshot(snapshot_id, project_id, force=False):
    with db_api.session() as s:
        row = _snap_row(s, snapshot_id, project_id)
        if row.status not in (AVAILABLE, ERROR) and not (force and row.status != DELETING):
            raise InvalidSnapshot(reason='Snapshot status must be available or error and '
                                  'must not be part of a group.')
        row.status, row.updated_at = DELETING, utcnow()
        s.flush()
        return snapshot_to_dict(row)


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
        return snapshot_to_dict(s.get(S, snapshot_id))


def snapshot_finish_delete(snapshot_id):
    """Mark the snapshot deleted (its quota is free again); idempotent."""
    with db_api.session() as s:
        row = s.get(vm.VolumeSnapshot, snapshot_id)
        if row is None or row.deleted:
            return
        now = utcnow()
        row.deleted, row.deleted_at, row.status, row.updated_at = True, now, DELETED, now


def stuck_snapshots(statuses, older_than_seconds):
    before = utcnow() - datetime.timedelta(seconds=older_than_seconds)
    S = vm.VolumeSnapshot
    with db_api.reader() as s:
        return [snapshot_to_dict(r) for r in s.scalars(sa.select(S).where(
            S.deleted.is_(False), S.status.in_(list(statuses)), S.updated_at < before))]
