"""The live-update stream: one server-sent-events connection per open page.

It asks the compute API what changed since its last look (``changes-since``,
which also lists deletions) every [dashboard] poll_interval seconds and
sends each changed server as ready HTML: ``server-<id>`` (its list row),
``server-<id>-status`` (its status badge, which detail pages watch),
``server-new`` (a row for a server made after the page loaded) and
``tasks`` (the task panel: operations in flight in the project). The page
swaps them in with htmx's SSE extension; nothing is polled by the browser.
"""

import datetime
import json
import time

import flask

from common.conf import CONF
from dashboard import cloud
from dashboard import rest
from dashboard import tasks
from dashboard.views import instances
from dashboard.views import signed_in

bp = flask.Blueprint('events', __name__)
HEARTBEAT = 15.0
OVERLAP = datetime.timedelta(seconds=3)   # clock skew and same-second updates


def _sse(event, data):
    lines = ''.join('data: %s\n' % line for line in (data.splitlines() or ['']))
    return 'event: %s\n%s\n' % (event, lines)


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


class Watcher:
    """What one stream knows: each server's last update it sent."""

    def __init__(self, conn, project_id):
        self.conn = conn
        self.project_id = project_id
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.since = self.started - OVERLAP
        self.seen = {}
        self.panel = tasks.Panel(conn)
        self.panel_html = None
        self.down = None
        self._primed = False
        self.extra = []     # lists the page asked for too (page_watchers)

    def prime(self):
        """Learn every server once (the page already shows them), for the
        task panel; from then on only changes are asked for."""
        body = rest.get('compute', '/servers/detail', conn=self.conn, limit=1000)
        for server in body['servers']:
            self.seen[server['id']] = (server.get('updated'), server.get('status'),
                                       server.get('OS-EXT-STS:task_state'),
                                       server.get('OS-EXT-STS:power_state'))
        self.panel.update_servers(body['servers'])
        self._primed = True

    def extra_events(self):
        """The page's other lists, first: each shows its own service's
        failures, so they stay live when compute does not answer."""
        return ''.join(event for extra in self.extra for event in extra.events())

    def changes(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        body = rest.get('compute', '/servers/detail', conn=self.conn, **{
            'changes-since': _iso(self.since)})
        self.since = now - OVERLAP
        out = []
        for server in instances.decorate(self.conn, body['servers']):
            stamp = (server.get('updated'), server.get('status'),
                     server.get('OS-EXT-STS:task_state'), server.get('OS-EXT-STS:power_state'))
            if self.seen.get(server['id']) == stamp:
                continue
            first = server['id'] not in self.seen
            self.seen[server['id']] = stamp
            out.append((server, first))
        return out

    def events(self):
        if not self._primed:
            self.prime()
        changed = self.changes()
        self.panel.update_servers([server for server, _first in changed])
        for server, first in changed:
            deleted = server.get('status') == 'DELETED'
            row = '' if deleted else flask.render_template('instances/_row.html', s=server)
            yield _sse('server-%s' % server['id'], row)
            yield _sse('server-%s-status' % server['id'],
                       flask.render_template('instances/_status.html', s=server))
            if first and not deleted and _created_after(server, self.started):
                yield _sse('server-new', row)
        panel = self.panel.render()
        if panel != self.panel_html:
            self.panel_html = panel
            yield _sse('tasks', panel)


def _created_after(server, moment):
    try:
        created = datetime.datetime.strptime(server['created'], '%Y-%m-%dT%H:%M:%SZ')
    except (KeyError, ValueError):
        return False
    return created.replace(tzinfo=datetime.timezone.utc) >= moment - OVERLAP


def page_watchers(conn):
    """What the page asked the stream to watch beyond servers
    (``?watch=volumes``): a page module offers ``WATCH = {name: factory}``,
    each factory(conn) an object whose events() yields ready events
    (dashboard/live.py) and shows its own service's failures."""
    from dashboard import views
    offered = {}
    for mod in views.modules():
        offered.update(getattr(mod, 'WATCH', {}))
    names = dict.fromkeys(flask.request.args.getlist('watch')[:8])
    return [offered[name](conn) for name in names if name in offered]


@bp.route('/events')
@signed_in
def stream():
    conn = cloud.conn()
    watcher = Watcher(conn, flask.session['me']['project_id'])
    watcher.extra = page_watchers(conn)
    interval = CONF.dashboard.poll_interval
    # True once the browser has gone (waitress, cmd.SERVER_OPTIONS): the
    # stream ends then instead of polling for nobody.
    gone = flask.request.environ.get('waitress.client_disconnected', lambda: False)

    def generate():
        yield 'retry: 2000\n\n'
        last_beat = time.monotonic()
        while not gone():
            extra = ''
            try:
                extra = watcher.extra_events()
                chunk = extra + ''.join(watcher.events())
                if watcher.down:
                    watcher.down = None
                    chunk += _sse('api-down', '')
            except cloud.NotSignedIn:
                yield _sse('signed-out', json.dumps({'login': flask.url_for('auth.login')}))
                return
            except cloud.APIError as err:
                chunk = extra
                if str(err) != watcher.down:
                    watcher.down = str(err)
                    chunk += _sse('api-down', flask.render_template(
                        '_alert.html', kind='error', title='Live updates paused',
                        message=str(err), err=err))
            if chunk:
                yield chunk
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat > HEARTBEAT:
                yield ': beat\n\n'
                last_beat = time.monotonic()
            time.sleep(interval)

    resp = flask.Response(flask.stream_with_context(generate()),
                          mimetype='text/event-stream')
    resp.headers['Cache-Control'] = 'no-store'
    resp.headers['X-Accel-Buffering'] = 'no'
    return resp
