"""Instances of all projects (all_tenants): the project and host of each,
filters and marker paging in the URL, rows kept live by a poll of
changes-since (one compute call for the whole page every POLL seconds).
Moving a server: cold migrate, live migrate (to a chosen host or where the
scheduler puts it; block migration 'auto') and evacuate a server whose
host is down; confirm or revert a cold migration."""

import datetime

import flask

from dashboard import cloud
from dashboard import errors
from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only
from dashboard.views import instances as project_instances
from dashboard.views import paging

bp = admin.blueprint('admin_instances', '/admin/instances')
ADMIN_NAV = [('admin_instances.index', 'All instances')]

FILTERS = ('name', 'status', 'host', 'project_id', 'flavor')
POLL = 2          # seconds between the page's looks at changes-since
OVERLAP = datetime.timedelta(seconds=3)
ACTIONS = ('live', 'migrate', 'evacuate', 'confirm', 'revert')


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def decorate(servers, names):
    project_instances.decorate(cloud.conn(), servers)
    for s in servers:
        s['project_name'] = names.get(s.get('tenant_id'), '')
        s['host'] = s.get('OS-EXT-SRV-ATTR:host') or ''
    return servers


@bp.route('/')
@admin_only
def index():
    limit, marker = paging()
    args = flask.request.args
    params = {k: args[k] for k in FILTERS if args.get(k)}
    params.update(all_tenants='1', limit=limit)
    if marker:
        params['marker'] = marker
    since = _iso(_now() - OVERLAP)
    servers = rest.get('compute', '/servers/detail', **params)['servers']
    names = admin.project_names()
    decorate(servers, names)
    hosts, _err = rest.attempt('compute', 'GET', '/os-services',
                               **{'binary': 'nova-compute'})
    return flask.render_template(
        'admin/instances.html', servers=servers, names=names, since=since,
        filters={k: args.get(k, '') for k in FILTERS}, limit=limit, marker=marker,
        next_marker=servers[-1]['id'] if len(servers) >= limit else None,
        hosts=sorted({s['host'] for s in (hosts or {}).get('services', [])}), poll=POLL)


@bp.route('/changes')
@admin_only
def changes():
    """The rows of this page's servers that changed since ``since`` (swapped
    in out of band) and the poller itself, with the new ``since``."""
    ids = [i for i in flask.request.args.get('ids', '').split(',') if i]
    since = flask.request.args.get('since') or _iso(_now() - OVERLAP)
    now = _now()
    body, err = rest.attempt('compute', 'GET', '/servers/detail', **{
        'all_tenants': '1', 'changes-since': since})
    if err:   # said once in the poller itself (no alert every few seconds); it retries
        return flask.render_template('admin/_instances_poll.html', changed=[], ids=ids,
                                     since=since, poll=POLL * 5, err=err)
    wanted = set(ids)
    changed = [s for s in body['servers'] if s['id'] in wanted]
    if changed:
        decorate(changed, admin.project_names())
    return flask.render_template('admin/_instances_poll.html', changed=changed, ids=ids,
                                 since=_iso(now - OVERLAP), poll=POLL)


def _server(server_id):
    server = rest.get('compute', '/servers/%s' % server_id)['server']
    return decorate([server], admin.project_names())[0]


def move_context(server):
    """What the move forms need: the other compute hosts with their state,
    and the server's own host's service."""
    services = admin.compute_hosts()
    own = next((s for s in services if s['host'] == server['host']), None)
    return {'targets': [s for s in services if s['host'] != server['host']],
            'own_service': own,
            'host_down': bool(own and (own['state'] == 'down' or own.get('forced_down')))}


@bp.route('/<server_id>/')
@admin_only
def detail(server_id):
    """The move forms of one server: a page of its own, or (htmx) the panel
    the all-instances page opens above its list."""
    server = _server(server_id)
    template = 'admin/_move.html' if errors.is_htmx() else 'admin/instance.html'
    back = flask.request.args.get('next') or flask.url_for('.index')
    if not back.startswith('/') or back.startswith('//'):
        back = flask.url_for('.index')
    return flask.render_template(template, s=server, back=back, **move_context(server))


def action_body(action, host):
    if action == 'live':
        return {'os-migrateLive': {'host': host or None, 'block_migration': 'auto'}}
    if action == 'migrate':
        return {'migrate': {'host': host} if host else None}
    if action == 'evacuate':
        return {'evacuate': {'host': host} if host else {}}
    return {'confirmResize' if action == 'confirm' else 'revertResize': None}


@bp.route('/<server_id>/action', methods=['POST'])
@admin_only
def action(server_id):
    act, host = rest.form('action'), rest.form('host')
    if act not in ACTIONS:
        rest.refuse('Unknown action %r: one of %s.' % (act, ', '.join(ACTIONS)))
    rest.call('compute', 'POST', '/servers/%s/action' % server_id, action_body(act, host))
    name = rest.form('name', server_id)
    where = ' to %s' % host if host else ''
    message = {'live': 'Live migration of %s%s started.' % (name, where),
               'migrate': 'Cold migration of %s%s started; confirm it when the server '
                          'shows VERIFY_RESIZE.' % (name, where),
               'evacuate': 'Evacuation of %s%s started.' % (name, where),
               'confirm': 'Migration of %s confirmed.' % name,
               'revert': 'Migration of %s reverted.' % name}[act]
    back = flask.request.form.get('next') or flask.url_for('.index')
    if not back.startswith('/') or back.startswith('//'):
        back = flask.url_for('.index')
    return rest.done(message, back)
