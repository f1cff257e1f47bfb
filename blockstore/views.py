"""The volume records' views: find a row (or its NotFound), turn a
row into the plain dict every caller gets, sort and page a list.

A volume comes with its attachments and its type's name (``full``);
the API (api/volume/views.py) shapes these dicts for the wire.
"""

import uuid

import sqlalchemy as sa

from blockstore import exception
from common.db import volume_models as vm


def uuid_or_none(text):
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


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


def full(s, row):
    atts = [attachment_to_dict(a) for a in s.scalars(
        sa.select(vm.VolumeAttachment).where(vm.VolumeAttachment.volume_id == row.id)
        .order_by(vm.VolumeAttachment.created_at))]
    tname = None
    if row.volume_type_id:
        tname = s.scalar(sa.select(vm.VolumeType.name).where(
            vm.VolumeType.id == row.volume_type_id))
    return to_dict(row, atts, tname)


def volume_row(s, volume_id, project_id=None, deleted=False):
    vid = uuid_or_none(volume_id)
    row = s.get(vm.Volume, vid) if vid else None
    if row is None or (row.deleted and not deleted) or \
            (project_id is not None and row.project_id != project_id):
        raise exception.VolumeNotFound(volume_id=volume_id)
    return row


def snapshot_row(s, snapshot_id, project_id=None, deleted=False):
    sid = uuid_or_none(snapshot_id)
    row = s.get(vm.VolumeSnapshot, sid) if sid else None
    if row is None or (row.deleted and not deleted) or \
            (project_id is not None and row.project_id != project_id):
        raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
    return row


_SORT_KEYS = ('created_at', 'updated_at', 'id', 'name', 'size', 'status')


def sorted_paged(s, rows, sort, limit, marker, not_found, marker_kw):
    keys = sort or [('created_at', 'desc')]
    for key, direction in reversed(list(keys) + [('id', 'asc')]):
        if key not in _SORT_KEYS:
            raise exception.InvalidInput(reason='Invalid sort key %s' % key)
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
