"""Migrations (os-migrations): every move of a server (cold and live
migrations, resizes, evacuations) with its status as a progress bar, its
hosts and times; filters and marker paging (by uuid, 2.59) in the URL. The
list refreshes itself every few seconds while a migration is in progress
(slower otherwise, to show new ones)."""

import datetime

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only
from dashboard.views import paging

bp = admin.blueprint('admin_migrations', '/admin/migrations')
ADMIN_NAV = [('admin_migrations.index', 'Migrations')]

FILTERS = ('status', 'migration_type', 'host', 'instance_uuid')
TYPES = ('live-migration', 'migration', 'resize', 'evacuation')
# How far along a status is (percent); the others are done (100).
STEPS = {'accepted': 5, 'queued': 5, 'scheduled': 10, 'pre-migrating': 20,
         'preparing': 20, 'migrating': 50, 'running': 50, 'post-migrating': 80,
         'finished': 90, 'confirming': 95, 'reverting': 95}
FAILED = {'error', 'failed', 'cancelled'}
FAST, SLOW = 2, 10   # seconds between refreshes: with a migration in progress, without


def _parse(stamp):
    if not stamp:
        return None
    try:
        return datetime.datetime.strptime(stamp[:19], '%Y-%m-%dT%H:%M:%S')
    except ValueError:
        return None


def progress(m, now=None):
    """(percent, level, in progress?) of a migration, from its status."""
    status = (m.get('status') or '').lower()
    if status in STEPS:
        level = 'wait' if status == 'finished' else 'ok'
        return STEPS[status], level, status != 'finished'
    return 100, 'full' if status in FAILED else 'done', False


def decorate(migrations, names, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    for m in migrations:
        m['pct'], m['level'], m['active'] = progress(m)
        m['server_name'] = names.get(m.get('instance_uuid'), '')
        start, end = _parse(m.get('created_at')), _parse(m.get('updated_at'))
        end = now if m['active'] or not end else end
        m['seconds'] = max(0, int((end - start).total_seconds())) if start else None
    return migrations


def _list(args):
    limit, marker = paging()
    params = {k: args[k] for k in FILTERS if args.get(k)}
    params['limit'] = limit
    if marker:
        params['marker'] = marker
    migrations = rest.get('compute', '/os-migrations', **params)['migrations']
    servers, _err = rest.attempt('compute', 'GET', '/servers',
                                 **{'all_tenants': '1', 'limit': 1000})
    names = {s['id']: s['name'] for s in (servers or {}).get('servers', [])}
    decorate(migrations, names)
    next_marker = migrations[-1].get('uuid') if len(migrations) >= limit else None
    return migrations, limit, marker, next_marker


@bp.route('/')
@admin_only
def index():
    migrations, limit, marker, next_marker = _list(flask.request.args)
    return flask.render_template(
        'admin/migrations.html', migrations=migrations, limit=limit, marker=marker,
        next_marker=next_marker, filters={k: flask.request.args.get(k, '') for k in FILTERS},
        types=TYPES, fast=FAST, slow=SLOW)


@bp.route('/rows')
@admin_only
def rows():
    """The list's body, for its refresh; a failure shows in it (and the
    refresh goes on, slowly), not as an alert every few seconds."""
    try:
        migrations, _limit, _marker, _next = _list(flask.request.args)
        err = None
    except cloud.APIError as e:
        migrations, err = [], e
    return flask.render_template('admin/_migration_rows.html', migrations=migrations,
                                 fast=FAST, slow=SLOW, err=err)
