"""volumes: create, list (summary and detail), show, update, delete, their
metadata and actions (os-extend, os-set_bootable, os-reset_status,
os-update_readonly_flag, os-force_delete)."""

import math

import flask
from oslo_log import log as logging

from api import http
from api import microversion
from api.compute import images
from api.volume import base
from api.volume import views
from blockstore import attachments
from blockstore import exception as volume_exc
from blockstore import snapshots as volume_snapshots
from blockstore import types as volume_types
from blockstore import volumes
from common import exception

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3

_STR = {'type': ['string', 'null'], 'maxLength': 255}
_META = {'type': ['object', 'null'], 'additionalProperties': {'type': 'string',
                                                               'maxLength': 255}}
_SIZE = {'oneOf': [{'type': 'integer', 'minimum': 1},
                   {'type': 'string', 'pattern': '^[0-9]+$'}, {'type': 'null'}]}
CREATE = {
    'type': 'object', 'required': ['volume'],
    'properties': {'volume': {
        'type': 'object',
        'properties': {
            'name': _STR, 'description': _STR, 'display_name': _STR,
            'display_description': _STR, 'size': _SIZE,
            'volume_type': {'type': ['string', 'null']},
            'availability_zone': {'type': ['string', 'null']},
            'snapshot_id': {'type': ['string', 'null']},
            'source_volid': {'type': ['string', 'null']},
            'imageRef': {'type': ['string', 'null']},
            'image_id': {'type': ['string', 'null']},
            'backup_id': {'type': ['string', 'null']},
            'consistencygroup_id': {'type': ['string', 'null']},
            'group_id': {'type': ['string', 'null']},
            'multiattach': {'type': ['boolean', 'null']},
            'metadata': _META,
        }}},
}
UPDATE = {
    'type': 'object', 'required': ['volume'],
    'properties': {'volume': {
        'type': 'object',
        'properties': {'name': _STR, 'description': _STR, 'display_name': _STR,
                       'display_description': _STR, 'metadata': _META},
        'additionalProperties': False}},
}


def _size(raw, field='size'):
    if raw is None:
        return None
    try:
        size = int(raw)
    except (TypeError, ValueError):
        size = 0
    if isinstance(raw, bool) or size < 1:
        raise volume_exc.InvalidInput(reason="Invalid input for field/attribute %s. Value: %s. "
                                      "%s must be an integer greater than 0." % (field, raw, field))
    return size


def _volume_type(requested):
    if requested:
        return volume_types.get_type(requested, by_name_error=True)
    try:
        return volume_types.default_type()
    except exception.NotFound:
        return None


def fetch_image(ctx, image_id):
    try:
        img = images.get(ctx, image_id)
    except exception.BadRequest:
        raise exception.BadRequest('Invalid image identifier or unable to access requested '
                                   'image.') from None
    if img.get('status') not in (None, 'active'):
        raise exception.BadRequest('Image %s is not active.' % image_id)
    return img


def image_min_gb(img):
    need = max(img.get('size') or 0, img.get('virtual_size') or 0)
    return max(int(math.ceil(need / GiB)), int(img.get('min_disk') or 0), 1)


def image_metadata(img):
    return {k: str(img[k]) for k in ('id', 'name', 'disk_format', 'container_format',
                                     'checksum', 'min_disk', 'min_ram', 'size')
            if img.get(k) is not None} | ({'image_id': img['id'], 'image_name':
                                          img.get('name') or ''} if img.get('id') else {})


def create_volume(project_id):
    base.check_project(project_id)
    ctx = http.context()
    base.authorize('volume:create')
    body = http.json_body(CREATE)['volume']
    size = _size(body.get('size'))
    az = body.get('availability_zone')
    if az and az != 'nova':
        raise exception.BadRequest("Invalid input received: Availability zone '%s' is "
                                   "invalid." % az)
    if body.get('backup_id'):
        raise exception.BadRequest('Invalid input received: volume backups are not '
                                   'supported by this cloud.')
    values = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
              'name': body.get('name', body.get('display_name')),
              'description': body.get('description', body.get('display_description')),
              'metadata': body.get('metadata') or {}}
    vtype = _volume_type(body.get('volume_type'))
    values['volume_type_id'] = vtype['id'] if vtype else None
    sources = [k for k in ('snapshot_id', 'source_volid', 'imageRef', 'image_id')
               if body.get(k)]
    if len([k for k in sources if k != 'image_id']) > 1:
        raise exception.BadRequest('Invalid input received: only one of snapshot_id, '
                                   'source_volid and imageRef may be given.')
    if body.get('snapshot_id'):
        snap = volume_snapshots.get_snapshot(body['snapshot_id'], ctx.project_id)
        if snap['status'] != volumes.AVAILABLE:
            raise volume_exc.InvalidSnapshot(reason="Originating snapshot status must be one of "
                                             "'available' values")
        if size is None:
            size = snap['size']
        elif size < snap['size']:
            raise volume_exc.InvalidInput(reason="Volume size '%dGB' cannot be smaller than the "
                                          "snapshot size %dGB. They must be >= original snapshot "
                                          "size." % (size, snap['size']))
        values['snapshot_id'] = snap['id']
    elif body.get('source_volid'):
        src = volumes.get(body['source_volid'], ctx.project_id)
        if src['status'] not in (volumes.AVAILABLE, volumes.IN_USE):
            raise volume_exc.InvalidVolume(reason='Source volume status must be available or '
                                           'in-use, not %s.' % src['status'])
        if size is None:
            size = src['size']
        elif size < src['size']:
            raise volume_exc.InvalidInput(reason="Volume size '%dGB' cannot be smaller than "
                                          "original volume size %dGB. They must be >= original "
                                          "volume size." % (size, src['size']))
        values['source_volid'] = src['id']
        values['bootable'] = src['bootable']
        values['image_metadata'] = src['image_metadata']
    elif body.get('imageRef') or body.get('image_id'):
        img = fetch_image(ctx, body.get('imageRef') or body.get('image_id'))
        need = image_min_gb(img)
        if size is None:
            size = need
        elif size < need:
            raise volume_exc.InvalidInput(reason='Size of specified image %dGB is larger than '
                                          'volume size %dGB.' % (need, size))
        values['image_id'] = img['id']
        values['image_metadata'] = image_metadata(img)
    if size is None:
        raise volume_exc.InvalidInput(reason="Invalid input for field/attribute size. Value: None. "
                                      "None is not of type 'integer', 'string'")
    values['size'] = size
    vol = volumes.create(values)
    if not base.send('create_volume', base.rpc().create_volume, ctx, vol):
        vol = volumes.set_status(vol['id'], volumes.ERROR, expected=[volumes.CREATING]) or vol
    return http.reply({'volume': views.volume(vol, extended=False)}, status=202)


def _listing(detail):
    ctx = http.context()
    base.authorize('volume:get_all')
    args = flask.request.args
    filters = {'name': args.get('name') or args.get('display_name'),
               'status': args.get('status'),
               'availability_zone': args.get('availability_zone'),
               'metadata': base.metadata_arg()}
    if args.get('bootable') is not None:
        filters['bootable'] = http.bool_arg('bootable')
    proj = base.scope()
    limit = base.int_arg('limit')
    vols = volumes.list_volumes(proj, filters, limit=limit, marker=args.get('marker'),
                                sort=base.sort_arg())
    out = {'volumes': [views.volume(v) if detail else views.volume_summary(v)
                       for v in vols]}
    if limit and len(vols) == limit:
        out['volumes_links'] = [{'rel': 'next', 'href': http.url(
            'volume/v3', flask.request.view_args['project_id'],
            'volumes/detail' if detail else 'volumes') + '?limit=%d&marker=%s'
            % (limit, vols[-1]['id'])}]
    if microversion.at_least('3.45') and http.bool_arg('with_count', False):
        out['count'] = len(volumes.list_volumes(proj, filters))
    del ctx
    return http.reply(out)


def list_volumes(project_id):
    base.check_project(project_id)
    return _listing(False)


def list_volumes_detail(project_id):
    base.check_project(project_id)
    return _listing(True)


def _get(volume_id):
    ctx = http.context()
    return volumes.get(volume_id, None if base.is_admin(ctx) else ctx.project_id)


def show_volume(project_id, volume_id):
    base.check_project(project_id)
    vol = _get(volume_id)
    base.authorize('volume:get', vol['project_id'])
    return http.reply({'volume': views.volume(vol)})


def update_volume(project_id, volume_id):
    base.check_project(project_id)
    body = http.json_body(UPDATE)['volume']
    vol = _get(volume_id)
    base.authorize('volume:update', vol['project_id'])
    values = {}
    for key, old in (('name', 'display_name'), ('description', 'display_description')):
        if key in body or old in body:
            values[key] = body.get(key, body.get(old))
    if 'metadata' in body:
        values['metadata'] = body['metadata'] or {}
    if not body:
        raise exception.BadRequest("Invalid input received: Missing required element "
                                   "'volume' in request body.")
    vol = volumes.update(vol['id'], vol['project_id'], values)
    return http.reply({'volume': views.volume(vol, extended=False)})


def _delete(ctx, vol, cascade, force):
    vol = volumes.begin_delete(vol['id'], vol['project_id'], cascade=cascade, force=force)
    if not vol['host']:
        # Never reached a volume service: nothing to remove on a backend.
        for snap in vol['snapshots']:
            volume_snapshots.snapshot_finish_delete(snap['id'])
        volumes.finish_delete(vol['id'])
        return
    rpc = base.rpc()
    for snap in vol['snapshots']:
        if not base.send('delete_snapshot', rpc.delete_snapshot, ctx, snap, vol):
            volume_snapshots.snapshot_set_status(snap['id'], 'error_deleting',
                                                 expected=[volumes.DELETING])
    if not base.send('delete_volume', rpc.delete_volume, ctx, vol):
        volumes.set_status(vol['id'], volumes.ERROR_DELETING, expected=[volumes.DELETING])


def delete_volume(project_id, volume_id):
    base.check_project(project_id)
    ctx = http.context()
    vol = _get(volume_id)
    base.authorize('volume:delete', vol['project_id'])
    force = http.bool_arg('force', False)
    if force:
        base.authorize('volume_extension:volume_admin_actions:force_delete',
                       vol['project_id'])
    _delete(ctx, vol, http.bool_arg('cascade', False), force)
    return http.reply(status=202)


# --- metadata -------------------------------------------------------------------

def show_metadata(project_id, volume_id):
    base.check_project(project_id)
    vol = _get(volume_id)
    base.authorize('volume:get', vol['project_id'])
    return http.reply({'metadata': vol['metadata']})


def _meta_body(key='metadata'):
    body = http.json_body()
    meta = body.get(key)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise exception.BadRequest('Malformed request body')
    return meta


def set_metadata(project_id, volume_id):
    base.check_project(project_id)
    vol = _get(volume_id)
    base.authorize('volume:update_volume_metadata', vol['project_id'])
    replace = flask.request.method == 'PUT'
    meta = volumes.set_metadata(vol['id'], vol['project_id'], _meta_body(), replace=replace)
    return http.reply({'metadata': meta})


def show_metadata_key(project_id, volume_id, key):
    base.check_project(project_id)
    vol = _get(volume_id)
    if key not in vol['metadata']:
        raise exception.NotFound('Metadata item was not found')
    return http.reply({'meta': {key: vol['metadata'][key]}})


def set_metadata_key(project_id, volume_id, key):
    base.check_project(project_id)
    vol = _get(volume_id)
    base.authorize('volume:update_volume_metadata', vol['project_id'])
    meta = _meta_body('meta')
    if list(meta) != [key]:
        raise exception.BadRequest('Request body and URI mismatch')
    volumes.set_metadata(vol['id'], vol['project_id'], meta)
    return http.reply({'meta': meta})


def delete_metadata_key(project_id, volume_id, key):
    base.check_project(project_id)
    vol = _get(volume_id)
    base.authorize('volume:delete_volume_metadata', vol['project_id'])
    volumes.delete_metadata_key(vol['id'], vol['project_id'], key)
    return http.reply(status=200)


# --- actions --------------------------------------------------------------------

_RESET_STATUSES = ('available', 'error', 'creating', 'deleting', 'in-use', 'attaching',
                   'detaching', 'error_deleting', 'maintenance', 'error_extending',
                   'extending', 'reserved')


def _bool(raw, what):
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ('true', 'false', '1', '0', 'yes',
                                                        'no', 'on', 'off', 't', 'f', 'y',
                                                        'n'):
        return raw.strip().lower() in ('true', '1', 'yes', 'on', 't', 'y')
    raise volume_exc.InvalidInput(reason="Invalid value '%s' for %s: must be a boolean."
                                  % (raw, what))


def _extend(ctx, vol, args):
    base.authorize('volume:extend', vol['project_id'])
    new_size = _size((args or {}).get('new_size'), 'new_size')
    # Growing an attached volume needs the guest's QEMU to resize it (a
    # running QEMU holds the file's write lock); until the compute agent
    # does that, an in-use volume is refused at every microversion.
    vol = volumes.begin_extend(vol['id'], vol['project_id'], new_size, allow_in_use=False)
    if not base.send('extend_volume', base.rpc().extend_volume, ctx, vol, new_size):
        volumes.set_status(vol['id'], volumes.ERROR_EXTENDING, expected=[volumes.EXTENDING])


def _set_bootable(ctx, vol, args):
    base.authorize('volume_extension:volume_actions:set_bootable', vol['project_id'])
    if not isinstance(args, dict) or 'bootable' not in args:
        raise volume_exc.InvalidInput(reason='Must specify bootable in request.')
    volumes.update(vol['id'], vol['project_id'], {'bootable': _bool(args['bootable'],
                                                                'bootable')})


def _update_readonly(ctx, vol, args):
    base.authorize('volume:update_readonly_flag', vol['project_id'])
    if not isinstance(args, dict) or 'readonly' not in args:
        raise volume_exc.InvalidInput(reason="Must specify readonly in request.")
    volumes.update(vol['id'], vol['project_id'], {'readonly': _bool(args['readonly'],
                                                                'readonly')})


def _reset_status(ctx, vol, args):
    base.authorize('volume_extension:volume_admin_actions:reset_status', vol['project_id'])
    args = args if isinstance(args, dict) else {}
    status = args.get('status')
    attach = args.get('attach_status')
    if status is None and attach is None and args.get('migration_status') is None:
        raise exception.BadRequest('Must specify status, attach_status or '
                                   'migration_status for update.')
    if status is not None and status not in _RESET_STATUSES:
        raise exception.BadRequest("Invalid input received: '%s' is not a valid volume "
                                   "status." % status)
    if attach is not None and attach not in ('attached', 'detached'):
        raise exception.BadRequest("Invalid input received: '%s' is not a valid attach "
                                   "status." % attach)
    if status is not None:
        volumes.set_status(vol['id'], status)
    if attach == 'detached':
        attachments.clear_attachments(vol['id'])


def _force_delete(ctx, vol, args):
    base.authorize('volume_extension:volume_admin_actions:force_delete', vol['project_id'])
    _delete(ctx, vol, cascade=False, force=True)


ACTIONS = {'os-extend': _extend, 'os-set_bootable': _set_bootable,
           'os-update_readonly_flag': _update_readonly, 'os-reset_status': _reset_status,
           'os-force_delete': _force_delete}


def volume_action(project_id, volume_id):
    base.check_project(project_id)
    ctx = http.context()
    body = http.json_body()
    known = [k for k in body if k in ACTIONS]
    if len(body) != 1 or not known:
        raise exception.BadRequest('There is no such action: %s' % ', '.join(body) or '')
    vol = _get(volume_id)
    ACTIONS[known[0]](ctx, vol, body[known[0]])
    return http.reply(status=202)


P = '/v3/<project_id>/volumes'
ROUTES = [
    (P, {'GET': list_volumes, 'POST': create_volume}),
    (P + '/detail', {'GET': list_volumes_detail}),
    (P + '/<volume_id>', {'GET': show_volume, 'PUT': update_volume,
                          'DELETE': delete_volume}),
    (P + '/<volume_id>/action', {'POST': volume_action}),
    (P + '/<volume_id>/metadata', {'GET': show_metadata, 'POST': set_metadata,
                                   'PUT': set_metadata}),
    (P + '/<volume_id>/metadata/<key>', {'GET': show_metadata_key, 'PUT': set_metadata_key,
                                         'DELETE': delete_metadata_key}),
]
