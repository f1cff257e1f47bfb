"""snapshots: create, list (summary and detail), show, update, delete."""

import flask

from api import http
from api import microversion
from api.volume import base
from api.volume import views
from blockstore import exception as volume_exc
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common import exception

_STR = {'type': ['string', 'null'], 'maxLength': 255}
_META = {'type': ['object', 'null'], 'additionalProperties': {'type': 'string',
                                                               'maxLength': 255}}
CREATE = {
    'type': 'object', 'required': ['snapshot'],
    'properties': {'snapshot': {
        'type': 'object', 'required': ['volume_id'],
        'properties': {'volume_id': {'type': 'string'}, 'name': _STR, 'description': _STR,
                       'display_name': _STR, 'display_description': _STR,
                       'force': {'type': ['boolean', 'string', 'null']},
                       'metadata': _META}}},
}
UPDATE = {
    'type': 'object', 'required': ['snapshot'],
    'properties': {'snapshot': {
        'type': 'object',
        'properties': {'name': _STR, 'description': _STR, 'display_name': _STR,
                       'display_description': _STR, 'metadata': _META},
        'additionalProperties': False}},
}


def _force(raw):
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    low = raw.strip().lower()
    if low in ('true', '1', 'yes', 'on', 't', 'y'):
        return True
    if low in ('false', '0', 'no', 'off', 'f', 'n'):
        return False
    raise volume_exc.InvalidInput(reason='Invalid value for force: %s' % raw)


def create_snapshot(project_id):
    base.check_project(project_id)
    ctx = http.context()
    body = http.json_body(CREATE)['snapshot']
    base.authorize('volume:create_snapshot')
    vol = volumes.get(body['volume_id'], ctx.project_id)
    values = {'project_id': ctx.project_id, 'user_id': ctx.user_id,
              'volume_id': vol['id'],
              'name': body.get('name', body.get('display_name')),
              'description': body.get('description', body.get('display_description')),
              'metadata': body.get('metadata') or {}}
    snap = volume_snapshots.create_snapshot(values, force=_force(body.get('force')))
    if not base.send('create_snapshot', base.rpc().create_snapshot, ctx, snap, vol):
        snap = volume_snapshots.snapshot_set_status(snap['id'], volumes.ERROR,
                                                    expected=[volumes.CREATING]) or snap
    return http.reply({'snapshot': views.snapshot(snap, extended=False)}, status=202)


def _listing(detail):
    base.authorize('volume:get_all_snapshots')
    args = flask.request.args
    filters = {'name': args.get('name') or args.get('display_name'),
               'status': args.get('status'), 'volume_id': args.get('volume_id')}
    limit = base.int_arg('limit')
    snaps = volume_snapshots.list_snapshots(base.scope(), filters, limit=limit,
                                            marker=args.get('marker'), sort=base.sort_arg())
    out = {'snapshots': [views.snapshot(s, extended=detail) for s in snaps]}
    if microversion.at_least('3.45') and http.bool_arg('with_count', False):
        out['count'] = len(volume_snapshots.list_snapshots(base.scope(), filters))
    return http.reply(out)


def list_snapshots(project_id):
    base.check_project(project_id)
    return _listing(False)


def list_snapshots_detail(project_id):
    base.check_project(project_id)
    return _listing(True)


def _get(snapshot_id):
    ctx = http.context()
    return volume_snapshots.get_snapshot(snapshot_id,
                                         None if base.is_admin(ctx) else ctx.project_id)


def show_snapshot(project_id, snapshot_id):
    base.check_project(project_id)
    snap = _get(snapshot_id)
    base.authorize('volume:get_snapshot', snap['project_id'])
    return http.reply({'snapshot': views.snapshot(snap)})


def update_snapshot(project_id, snapshot_id):
    base.check_project(project_id)
    body = http.json_body(UPDATE)['snapshot']
    if not body:
        raise exception.BadRequest("Invalid input received: Missing required element "
                                   "'snapshot' in request body.")
    snap = _get(snapshot_id)
    base.authorize('volume:update_snapshot', snap['project_id'])
    values = {}
    for key, old in (('name', 'display_name'), ('description', 'display_description')):
        if key in body or old in body:
            values[key] = body.get(key, body.get(old))
    if 'metadata' in body:
        values['metadata'] = body['metadata'] or {}
    snap = volume_snapshots.update_snapshot(snap['id'], snap['project_id'], values)
    return http.reply({'snapshot': views.snapshot(snap, extended=False)})


def delete_snapshot(project_id, snapshot_id):
    base.check_project(project_id)
    ctx = http.context()
    snap = _get(snapshot_id)
    base.authorize('volume:delete_snapshot', snap['project_id'])
    snap = volume_snapshots.begin_delete_snapshot(snap['id'], snap['project_id'])
    try:
        vol = volumes.get(snap['volume_id'])
    except exception.NotFound:
        vol = {}
    if not vol.get('host'):
        volume_snapshots.snapshot_finish_delete(snap['id'])
    elif not base.send('delete_snapshot', base.rpc().delete_snapshot, ctx, snap, vol):
        volume_snapshots.snapshot_set_status(snap['id'], 'error_deleting',
                                             expected=[volumes.DELETING])
    return http.reply(status=202)


def snapshot_action(project_id, snapshot_id):
    base.check_project(project_id)
    body = http.json_body()
    if list(body) != ['os-reset_status']:
        raise exception.BadRequest('There is no such action: %s' % ', '.join(body))
    snap = _get(snapshot_id)
    base.authorize('volume_extension:snapshot_admin_actions:reset_status',
                   snap['project_id'])
    status = (body['os-reset_status'] or {}).get('status')
    if status not in ('available', 'error', 'creating', 'deleting', 'error_deleting'):
        raise exception.BadRequest("Invalid input received: '%s' is not a valid snapshot "
                                   "status." % status)
    volume_snapshots.snapshot_set_status(snap['id'], status)
    return http.reply(status=202)


P = '/v3/<project_id>/snapshots'
ROUTES = [
    (P, {'GET': list_snapshots, 'POST': create_snapshot}),
    (P + '/detail', {'GET': list_snapshots_detail}),
    (P + '/<snapshot_id>', {'GET': show_snapshot, 'PUT': update_snapshot,
                            'DELETE': delete_snapshot}),
    (P + '/<snapshot_id>/action', {'POST': snapshot_action}),
]
