"""Image members: the projects a shared image is shared with.

Only the owner (or an admin) adds and removes members; only the member
itself (or an admin) accepts or rejects; a member sees only its own entry.
Members exist only while the image is shared: any other visibility is a
403 here, as in Glance.
"""

import sqlalchemy as sa

from common import exception
from common.conf import CONF
from common.db import api as db_api
from common.db import image_models as m
from common.db.models import utcnow
from imagestore import exception as img_exc
from imagestore import images
from imagestore import schemas

M = m.ImageMember


def _member_dict(mem):
    return {'image_id': mem.image_id, 'member_id': mem.member, 'status': mem.status,
            'created_at': mem.created_at, 'updated_at': mem.updated_at}


def _shared_only(row):
    if row.visibility != 'shared':
        raise exception.Forbidden('Only shared images have members (image %s is %s).'
                                  % (row.id, row.visibility))


def _is_owner(context, row):
    return images.is_admin(context) or (context.project_id and context.project_id == row.owner)


def list_members(context, image_id):
    with db_api.reader() as s:
        row = images.visible_row(s, context, image_id)
        images.authorize(context, 'get_members', row.owner)
        _shared_only(row)
        q = sa.select(M).where(M.image_id == image_id).order_by(M.created_at, M.member)
        if not _is_owner(context, row):
            q = q.where(M.member == context.project_id)
            mems = list(s.scalars(q))
            if not mems:
                raise img_exc.ImageNotFound(id=image_id)
        else:
            mems = list(s.scalars(q))
        return [_member_dict(x) for x in mems]


def get_member(context, image_id, member_id):
    with db_api.reader() as s:
        row = images.visible_row(s, context, image_id)
        images.authorize(context, 'get_member', row.owner, member_id=member_id)
        _shared_only(row)
        if not _is_owner(context, row) and member_id != context.project_id:
            raise img_exc.MemberNotFound(member=member_id, image_id=image_id)
        mem = s.get(M, (image_id, member_id))
        if mem is None:
            raise img_exc.MemberNotFound(member=member_id, image_id=image_id)
        return _member_dict(mem)


def add_member(context, image_id, member_id):
    with db_api.session() as s:
        row = images.visible_row(s, context, image_id, for_update=True)
        images.authorize(context, 'add_member', row.owner, member_id=member_id)
        _shared_only(row)
        if member_id == row.owner:
            raise exception.BadRequest('The owner of an image cannot be one of its members.')
        if s.get(M, (image_id, member_id)) is not None:
            raise exception.Conflict('Project %s is already a member of image %s.'
                                     % (member_id, image_id))
        count = s.scalar(sa.select(sa.func.count()).select_from(M)
                         .where(M.image_id == image_id))
        if count >= CONF.image.image_member_quota:
            raise img_exc.RequestEntityTooLarge(
                reason='An image may be shared with at most %d projects.'
                       % CONF.image.image_member_quota)
        now = utcnow()
        mem = M(image_id=image_id, member=member_id, status='pending', created_at=now,
                updated_at=now)
        s.add(mem)
        s.flush()
        return _member_dict(mem)


def update_member(context, image_id, member_id, status):
    if status not in schemas.MEMBER_STATUSES:
        raise exception.BadRequest('Member status must be one of %s.'
                                   % ', '.join(schemas.MEMBER_STATUSES))
    with db_api.session() as s:
        row = images.visible_row(s, context, image_id)
        _shared_only(row)
        mem = s.get(M, (image_id, member_id), with_for_update=True)
        if mem is None:
            raise img_exc.MemberNotFound(member=member_id, image_id=image_id)
        if not images.is_admin(context) and context.project_id != member_id:
            raise exception.Forbidden('Only the member itself can accept or reject an '
                                      'image shared with it.')
        images.authorize(context, 'modify_member', row.owner, member_id=member_id)
        mem.status = status
        mem.updated_at = utcnow()
        s.flush()
        return _member_dict(mem)


def delete_member(context, image_id, member_id):
    with db_api.session() as s:
        row = images.visible_row(s, context, image_id, for_update=True)
        _shared_only(row)
        if not _is_owner(context, row):
            raise exception.Forbidden('Only the owner of image %s may remove its members.'
                                      % image_id)
        images.authorize(context, 'delete_member', row.owner, member_id=member_id)
        done = s.execute(sa.delete(M).where(M.image_id == image_id,
                                            M.member == member_id)).rowcount
        if not done:
            raise img_exc.MemberNotFound(member=member_id, image_id=image_id)
