"""Volume types: list, find by id or name, create, delete; the default
type ([volume] default_volume_type) cannot be deleted, nor a type in use.
"""

import uuid

import sqlalchemy as sa

from blockstore import exception
from blockstore import views
from common import exception as common_exc
from common.conf import CONF
from common.db import api as db_api
from common.db import volume_models as vm


def list_types(is_public=True):
    """is_public: True (public only), False (private only) or None (all)."""
    with db_api.reader() as s:
        q = sa.select(vm.VolumeType).order_by(vm.VolumeType.name)
        if is_public is not None:
            q = q.where(vm.VolumeType.is_public.is_(bool(is_public)))
        return [views.type_to_dict(r) for r in s.scalars(q)]


def _type_row(s, id_or_name):
    tid = views.uuid_or_none(id_or_name)
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
                raise exception.VolumeTypeNotFoundByName(volume_type_name=id_or_name)
            raise exception.VolumeTypeNotFound(volume_type_id=id_or_name)
        return views.type_to_dict(row)


def default_type():
    return get_type(CONF.volume.default_volume_type)


def create_type(name, description=None, is_public=True, extra_specs=None):
    with db_api.session() as s:
        if s.scalar(sa.select(vm.VolumeType.id).where(vm.VolumeType.name == name)):
            raise common_exc.Conflict(reason='Volume Type %s already exists.' % name)
        row = vm.VolumeType(id=str(uuid.uuid4()), name=name, description=description,
                            is_public=is_public, extra_specs=dict(extra_specs or {}))
        s.add(row)
        s.flush()
        return views.type_to_dict(row)


def ensure_type(name, description=None):
    """The type named ``name``, made if missing (bootstrap; idempotent)."""
    with db_api.reader() as s:
        row = s.scalars(sa.select(vm.VolumeType).where(vm.VolumeType.name == name)).first()
        if row is not None:
            return views.type_to_dict(row)
    return create_type(name, description)


def delete_type(type_id):
    with db_api.session() as s:
        row = s.get(vm.VolumeType, views.uuid_or_none(type_id) or '')
        if row is None:
            raise exception.VolumeTypeNotFound(volume_type_id=type_id)
        if row.name == CONF.volume.default_volume_type:
            raise common_exc.BadRequest('Target volume type is still in use. Can not '
                                        'delete the default volume type.')
        if s.scalar(sa.select(vm.Volume.id).where(vm.Volume.volume_type_id == row.id,
                                                  vm.Volume.deleted.is_(False)).limit(1)):
            raise common_exc.BadRequest('Target volume type is still in use.')
        s.delete(row)
