"""Image records in the database: create, read, list, update, delete,
and tags. Every function takes the request context first and
decides visibility and policy itself, inside its transaction.

Who sees an image (anything else is a 404, as in Glance):
  public and community images: everybody;
  private images: the owner;
  shared images: the owner and the projects it is shared with (a member
      sees it whatever its member status; lists show it only once the
      member accepted, unless asked with member_status);
  admins: everything.
A default list leaves out community images of other projects and images
with os_hidden set.

Records leave this module as plain dicts: the base attributes,
``properties`` (additional string properties) and ``tags``. Members are in
imagestore/members.py.
"""

import datetime
import uuid

import jsonschema
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common import exception
from common import policy
from common.conf import CONF
from common.db import api as db_api
from common.db import image_models as m
from common.db.models import utcnow
from imagestore import exception as img_exc
from imagestore import schemas
from imagestore import states

I = m.Image  # noqa: E741
P = m.ImageProperty
M = m.ImageMember
T = m.ImageTag

BASE_COLUMNS = ('id', 'name', 'status', 'visibility', 'owner', 'disk_format',
                'container_format', 'size', 'virtual_size', 'checksum', 'os_hash_algo',
                'os_hash_value', 'min_disk', 'min_ram', 'protected', 'os_hidden',
                'created_at', 'updated_at')

# Sort keys a list accepts; nullable columns sort as if null were the value given.
SORT_KEYS = {'name': ('', I.name), 'status': (None, I.status),
             'container_format': ('', I.container_format), 'disk_format': ('', I.disk_format),
             'size': (-1, I.size), 'virtual_size': (-1, I.virtual_size), 'id': (None, I.id),
             'created_at': (None, I.created_at), 'updated_at': (None, I.updated_at),
             'min_disk': (None, I.min_disk), 'min_ram': (None, I.min_ram),
             'visibility': (None, I.visibility), 'owner': ('', I.owner)}


def is_admin(context):
    return bool(context.is_admin) or 'admin' in (context.roles or [])


def _target(owner, **extra):
    return dict({'owner': owner, 'project_id': owner}, **extra)


def authorize(context, action, owner, **extra):
    if context.is_admin and not context.user_id:
        return  # a service's own context (get_admin_context): no token, no roles to check
    policy.authorize(context, 'image:' + action, _target(owner, **extra))


# --- visibility ---------------------------------------------------------------

def _visible(context, member_status=None):
    """SQL condition: images ``context`` may see.

    ``member_status`` limits which memberships count for shared images of
    other projects (None or 'all': any).
    """
    if is_admin(context):
        return sa.true()
    conds = [I.visibility.in_(('public', 'community'))]
    project = context.project_id
    if project:
        conds.append(I.owner == project)
        members = sa.select(M.image_id).where(M.member == project)
        if member_status not in (None, 'all'):
            members = members.where(M.status == member_status)
        conds.append(sa.and_(I.visibility == 'shared', I.id.in_(members)))
    return sa.or_(*conds)


def visible_row(s, context, image_id, for_update=False):
    """The image row ``context`` may see; ImageNotFound otherwise."""
    q = sa.select(I).where(I.id == image_id, I.deleted == sa.false(), _visible(context))
    if for_update:
        q = q.with_for_update()
    row = s.scalars(q).first()
    if row is None:
        raise img_exc.ImageNotFound(id=image_id)
    return row


def _record(s, row):
    rec = {c: getattr(row, c) for c in BASE_COLUMNS}
    rec['properties'] = {p.name: p.value for p in
                         s.scalars(sa.select(P).where(P.image_id == row.id))}
    rec['tags'] = sorted(s.scalars(sa.select(T.value).where(T.image_id == row.id)))
    return rec


def _records(s, rows):
    ids = [r.id for r in rows]
    props, tags = {}, {}
    if ids:
        for p in s.scalars(sa.select(P).where(P.image_id.in_(ids))):
            props.setdefault(p.image_id, {})[p.name] = p.value
        for t in s.scalars(sa.select(T).where(T.image_id.in_(ids))):
            tags.setdefault(t.image_id, []).append(t.value)
    out = []
    for row in rows:
        rec = {c: getattr(row, c) for c in BASE_COLUMNS}
        rec['properties'] = props.get(row.id, {})
        rec['tags'] = sorted(tags.get(row.id, []))
        out.append(rec)
    return out


# --- validation -----------------------------------------------------------------

def _validate_value(name, value):
    try:
        jsonschema.Draft4Validator(schemas.WRITABLE[name]).validate(value)
    except jsonschema.ValidationError as e:
        raise exception.BadRequest("Invalid value for attribute '%s': %s" % (name, e.message)
                                   ) from None


def _check_key(name):
    if name in schemas.READ_ONLY or name in ('deleted', 'deleted_at'):
        raise img_exc.ReadOnlyAttribute(name=name)
    if name.startswith(schemas.RESERVED_PREFIX):
        raise img_exc.ReservedAttribute(name=name)
    if not name or len(name) > schemas.MAX_KEY:
        raise exception.BadRequest('Property names must be 1 to %d characters long.'
                                   % schemas.MAX_KEY)


def _check_extra(name, value):
    if not isinstance(value, str):
        raise exception.BadRequest("Invalid value for property '%s': additional properties "
                                   "must be strings." % name)


def _check_quotas(props, tags):
    if len(props) > CONF.image.image_property_quota:
        raise img_exc.RequestEntityTooLarge(
            reason='An image may have at most %d additional properties.'
                   % CONF.image.image_property_quota)
    if len(tags) > CONF.image.image_tag_quota:
        raise img_exc.RequestEntityTooLarge(
            reason='An image may have at most %d tags.' % CONF.image.image_tag_quota)


def _check_visibility(context, visibility, owner):
    if visibility == 'public':
        authorize(context, 'publicize_image', owner)
    elif visibility == 'community':
        authorize(context, 'communitize_image', owner)


def split_values(values):
    """(base, extra) from a create body; raises 4xx for what may not be set."""
    if not isinstance(values, dict):
        raise exception.BadRequest('The request body must be a JSON object.')
    base, extra = {}, {}
    for name, value in values.items():
        _check_key(name)
        if name in schemas.WRITABLE:
            _validate_value(name, value)
            base[name] = value
        else:
            _check_extra(name, value)
            extra[name] = value
    return base, extra


# --- create, get, list --------------------------------------------------------------

def create(context, values, owner=None):
    """A new queued image from a create body; returns its record.

    ``owner`` (internal callers) overrides the body and the context.
    """
    base, extra = split_values(values)
    if owner is None:
        owner = base.get('owner') or context.project_id
        if owner != context.project_id and not is_admin(context):
            raise exception.Forbidden('You are not permitted to create images owned by '
                                      'another project.')
    authorize(context, 'add_image', owner)
    visibility = base.get('visibility', 'shared')
    _check_visibility(context, visibility, owner)
    tags = sorted(set(base.get('tags') or []))
    _check_quotas(extra, tags)
    image_id = base.get('id') or str(uuid.uuid4())
    now = utcnow()
    row = I(id=image_id, name=base.get('name'), status=states.QUEUED, visibility=visibility,
            owner=owner, disk_format=base.get('disk_format'),
            container_format=base.get('container_format'),
            min_disk=base.get('min_disk', 0), min_ram=base.get('min_ram', 0),
            protected=base.get('protected', False), os_hidden=base.get('os_hidden', False),
            deleted=False, created_at=now, updated_at=now)
    try:
        with db_api.session() as s:
            if s.get(I, image_id) is not None:
                raise exception.Conflict(reason='an image with ID %s already exists'
                                         % image_id)
            s.add(row)
            s.flush()
            for name, value in extra.items():
                s.add(P(image_id=image_id, name=name, value=value))
            for tag in tags:
                s.add(T(image_id=image_id, value=tag))
            s.flush()
            return _record(s, row)
    except sa_exc.IntegrityError:
        raise exception.Conflict(reason='an image with ID %s already exists'
                                 % image_id) from None


def get(context, image_id):
    authorize(context, 'get_image', context.project_id)
    with db_api.reader() as s:
        return _record(s, visible_row(s, context, image_id))


def get_any(image_id):
    """The record of a non-deleted image, whoever owns it (internal paths)."""
    with db_api.reader() as s:
        row = s.scalars(sa.select(I).where(I.id == image_id,
                                           I.deleted == sa.false())).first()
        if row is None:
            raise img_exc.ImageNotFound(id=image_id)
        return _record(s, row)


class Query:
    """A parsed image list request (see imagestore/api/params.py)."""

    def __init__(self, filters=None, in_filters=None, properties=None, tags=(),
                 visibility=None, member_status='accepted', os_hidden=False,
                 size_min=None, size_max=None, times=(), marker=None, limit=25,
                 sort=(('created_at', 'desc'),)):
        self.filters = filters or {}          # column -> exact value
        self.in_filters = in_filters or {}    # column -> [values]
        self.properties = properties or {}    # additional property -> value
        self.tags = list(tags)
        self.visibility = visibility          # None, a visibility or 'all'
        self.member_status = member_status    # accepted, pending, rejected or all
        self.os_hidden = os_hidden            # None: both
        self.size_min = size_min
        self.size_max = size_max
        self.times = list(times)              # (column, op, datetime)
        self.marker = marker
        self.limit = limit
        self.sort = list(sort)


_OPS = {'eq': lambda c, v: c == v, 'neq': lambda c, v: c != v, 'gt': lambda c, v: c > v,
        'gte': lambda c, v: c >= v, 'lt': lambda c, v: c < v, 'lte': lambda c, v: c <= v}


def _sort_expr(key):
    null_as, col = SORT_KEYS[key]
    return col if null_as is None else sa.func.coalesce(col, null_as)


def _sort_value(row, key):
    null_as, _col = SORT_KEYS[key]
    value = getattr(row, key)
    return null_as if value is None else value


def list_images(context, query):
    """(records, more): one page of the images ``context`` may see."""
    authorize(context, 'get_images', context.project_id)
    conds = [I.deleted == sa.false(), _visible(context, query.member_status)]
    if query.visibility is None:
        owner_or = [I.visibility != 'community']
        if context.project_id:
            owner_or.append(I.owner == context.project_id)
        conds.append(sa.or_(*owner_or))
    elif query.visibility != 'all':
        conds.append(I.visibility == query.visibility)
    if query.os_hidden is not None:
        conds.append(I.os_hidden == sa.true() if query.os_hidden else
                     I.os_hidden == sa.false())
    for col, value in query.filters.items():
        conds.append(getattr(I, col) == value)
    for col, values in query.in_filters.items():
        conds.append(getattr(I, col).in_(values))
    for name, value in query.properties.items():
        conds.append(I.id.in_(sa.select(P.image_id).where(P.name == name, P.value == value)))
    for tag in query.tags:
        conds.append(I.id.in_(sa.select(T.image_id).where(T.value == tag)))
    if query.size_min is not None:
        conds.append(I.size >= query.size_min)
    if query.size_max is not None:
        conds.append(I.size <= query.size_max)
    for col, op, when in query.times:
        conds.append(_OPS[op](getattr(I, col), when))

    sort = list(query.sort)
    keys = [k for k, _d in sort]
    tie_dir = sort[-1][1] if sort else 'desc'
    for key in ('created_at', 'id'):
        if key not in keys:
            sort.append((key, tie_dir))
    order = [(_sort_expr(k).asc() if d == 'asc' else _sort_expr(k).desc()) for k, d in sort]

    with db_api.reader() as s:
        if query.marker:
            mrow = s.scalars(sa.select(I).where(I.id == query.marker, I.deleted == sa.false(),
                                                _visible(context))).first()
            if mrow is None:
                raise exception.BadRequest('The marker %s does not name an image you can '
                                           'see.' % query.marker)
            conds.append(_after(mrow, sort))
        rows = list(s.scalars(sa.select(I).where(*conds).order_by(*order)
                              .limit(query.limit + 1)))
        more = len(rows) > query.limit
        return _records(s, rows[:query.limit]), more


def _after(mrow, sort):
    """SQL condition: rows that sort after the marker row (keyset paging)."""
    alternatives = []
    for i, (key, direction) in enumerate(sort):
        equal = [_sort_expr(k) == _sort_value(mrow, k) for k, _d in sort[:i]]
        expr, value = _sort_expr(key), _sort_value(mrow, key)
        beyond = expr > value if direction == 'asc' else expr < value
        alternatives.append(sa.and_(*equal, beyond))
    return sa.or_(*alternatives)


# --- update -------------------------------------------------------------------------------

def update(context, image_id, changes, add_replaces=True):
    """Apply JSON-patch style ``changes`` [(op, name, value)] atomically.

    ``add_replaces`` False is the older v2.0 patch format's rule: "add" of
    an attribute the image already has is a 409 instead of a replace.
    """
    with db_api.session() as s:
        row = visible_row(s, context, image_id, for_update=True)
        authorize(context, 'modify_image', row.owner)
        rec = _record(s, row)
        base = {c: rec[c] for c in schemas.WRITABLE if c in rec}
        base['tags'] = list(rec['tags'])
        props = dict(rec['properties'])
        for op, name, value in changes:
            if op == 'add' and not add_replaces and (name in base or name in props):
                raise exception.Conflict('Property %s already present.' % name)
            _apply(op, name, value, base, props, rec)
        tags = sorted(set(base['tags']))
        _check_quotas(props, tags)
        if base['visibility'] != row.visibility:
            _check_visibility(context, base['visibility'], row.owner)
        if base['owner'] != row.owner and not is_admin(context):
            raise exception.Forbidden('Only an admin may give an image to another project.')
        for name in ('disk_format', 'container_format'):
            if base[name] != getattr(row, name) and row.status != states.QUEUED:
                raise exception.Forbidden('Attribute %s can be only replaced for a queued '
                                          'image.' % name)
        for name in ('name', 'visibility', 'owner', 'disk_format', 'container_format',
                     'min_disk', 'min_ram', 'protected', 'os_hidden'):
            setattr(row, name, base[name])
        row.updated_at = utcnow()
        old_props = rec['properties']
        for name in set(old_props) - set(props):
            s.execute(sa.delete(P).where(P.image_id == image_id, P.name == name))
        for name, value in props.items():
            if name not in old_props:
                s.add(P(image_id=image_id, name=name, value=value))
            elif old_props[name] != value:
                s.execute(sa.update(P).where(P.image_id == image_id, P.name == name)
                          .values(value=value))
        if tags != rec['tags']:
            s.execute(sa.delete(T).where(T.image_id == image_id))
            for tag in tags:
                s.add(T(image_id=image_id, value=tag))
        s.flush()
        return _record(s, row)


def _apply(op, name, value, base, props, rec):
    if name in schemas.READ_ONLY or name == 'id' or name in ('deleted', 'deleted_at'):
        raise img_exc.ReadOnlyAttribute(name=name)
    if name.startswith(schemas.RESERVED_PREFIX):
        raise img_exc.ReservedAttribute(name=name)
    if name in schemas.WRITABLE:
        if op == 'remove':
            raise exception.Forbidden('Property %s may not be removed.' % name)
        _validate_value(name, value)
        base[name] = value
        return
    if not name or len(name) > schemas.MAX_KEY:
        raise exception.BadRequest('Property names must be 1 to %d characters long.'
                                   % schemas.MAX_KEY)
    if op == 'remove':
        if name not in props:
            raise exception.Conflict('Property %s does not exist.' % name)
        del props[name]
        return
    if op == 'replace' and name not in props:
        raise exception.Conflict('Property %s does not exist.' % name)
    _check_extra(name, value)
    props[name] = value


# --- status, data, delete -----------------------------------------------------------

def transition(image_id, event, **values):
    """Move an image along the state machine; returns the record after it.

    Raises InvalidImageStatus (409) when ``event`` is not allowed from the
    status the image has. The update is a compare-and-set on that status.
    """
    with db_api.session() as s:
        row = s.scalars(sa.select(I).where(I.id == image_id).with_for_update()).first()
        if row is None:
            raise img_exc.ImageNotFound(id=image_id)
        current = row.status
        new = states.next_status(image_id, current, event)
        done = s.execute(sa.update(I).where(I.id == image_id, I.status == current)
                         .values(status=new, updated_at=utcnow(), **values)).rowcount
        if not done:
            raise states.InvalidImageStatus(image_id=image_id, status=current,
                                            why='it changed while this request ran')
        s.flush()
        s.refresh(row)
        return _record(s, row)


def renew_upload(image_id):
    """An upload in progress: its image's updated_at, while it is saving."""
    with db_api.session() as s:
        s.execute(sa.update(I).where(I.id == image_id, I.status == states.SAVING)
                  .values(updated_at=utcnow()))


def lapsed_uploads(seconds):
    """Ids of the images saving with no progress for ``seconds``."""
    before = utcnow() - datetime.timedelta(seconds=seconds)
    with db_api.reader() as s:
        return list(s.scalars(sa.select(I.id).where(I.status == states.SAVING,
                                                    I.updated_at < before)))


def check_upload(context, image_id):
    """The record of an image ``context`` may upload data to (not changed yet)."""
    with db_api.reader() as s:
        row = visible_row(s, context, image_id)
        authorize(context, 'upload_image', row.owner)
        rec = _record(s, row)
    if not states.allowed(rec['status'], 'upload'):
        states.next_status(image_id, rec['status'], 'upload')
    if not rec['disk_format'] or not rec['container_format']:
        raise exception.BadRequest('Properties disk_format, container_format must be set '
                                   'prior to saving data.')
    return rec


def delete(context, image_id):
    """Mark the image deleted; returns its record (the caller removes the data)."""
    with db_api.session() as s:
        row = visible_row(s, context, image_id, for_update=True)
        authorize(context, 'delete_image', row.owner)
        if row.protected:
            raise img_exc.ImageProtected(id=image_id)
        states.next_status(image_id, row.status, 'delete')
        now = utcnow()
        row.status, row.deleted, row.deleted_at, row.updated_at = (states.DELETED, True, now,
                                                                    now)
        s.flush()
        return _record(s, row)


def unfinished_snapshots(instance_uuid, image_id=None):
    """Ids of the snapshot images of ``instance_uuid`` whose data never
    arrived (queued, saving or killed), or just ``image_id`` if it is one."""
    def prop(name, value):
        return I.id.in_(sa.select(P.image_id).where(P.name == name, P.value == value))
    q = sa.select(I.id).where(I.deleted == sa.false(),
                              I.status.in_((states.QUEUED, states.SAVING, states.KILLED)),
                              prop('image_type', 'snapshot'),
                              prop('instance_uuid', instance_uuid))
    if image_id is not None:
        q = q.where(I.id == image_id)
    with db_api.reader() as s:
        return sorted(s.scalars(q))


def set_active_status(context, image_id, event):
    """deactivate / reactivate (admins)."""
    with db_api.reader() as s:
        row = visible_row(s, context, image_id)
        authorize(context, event, row.owner)
    return transition(image_id, event)


# --- tags ------------------------------------------------------------------------------

def add_tag(context, image_id, tag):
    _validate_value('tags', [tag])
    with db_api.session() as s:
        row = visible_row(s, context, image_id, for_update=True)
        authorize(context, 'modify_image', row.owner)
        existing = set(s.scalars(sa.select(T.value).where(T.image_id == image_id)))
        if tag not in existing:
            _check_quotas({}, existing | {tag})
            s.add(T(image_id=image_id, value=tag))
            row.updated_at = utcnow()


def delete_tag(context, image_id, tag):
    with db_api.session() as s:
        row = visible_row(s, context, image_id, for_update=True)
        authorize(context, 'modify_image', row.owner)
        done = s.execute(sa.delete(T).where(T.image_id == image_id, T.value == tag)).rowcount
        if not done:
            raise exception.NotFound('Tag %s not found on image %s.' % (tag, image_id))
        row.updated_at = utcnow()


def to_iso(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%dT%H:%M:%SZ')
    return str(value)
