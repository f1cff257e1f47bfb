"""Volume snapshots: the project's snapshots with live status (the page's
event stream watches them, dashboard/live.py), a snapshot's detail (edit,
delete, a new volume from it) and the link to the full create form with the
snapshot chosen. Snapshots are made from a volume's page (views/volumes.py).
"""

import flask

from dashboard import live
from dashboard import rest
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('volume_snapshots', __name__, url_prefix='/volume-snapshots')
NAV = [('volume_snapshots.index', 'Volume snapshots')]
BUSY = frozenset({'creating', 'deleting', 'restoring', 'unmanaging', 'backing-up'})
FILTERS = ('name', 'status')
STATUSES = ('available', 'creating', 'deleting', 'error', 'error_deleting')


def decorate(snaps, volume_names):
    for s in snaps:
        s['label'] = s.get('name') or s['id']
        s['busy'] = s.get('status') in BUSY
        s['volume_name'] = volume_names.get(s.get('volume_id')) or s.get('volume_id')
    return snaps


def volume_names(conn=None):
    """({volume id: name}, APIError or None): one list call."""
    return rest.names('volumev3', 'volumes', conn=conn)


class SnapshotWatch(live.ListWatch):
    """The project's volume snapshots for the event stream (?watch=snapshots)."""

    kind = 'snapshot'
    service = 'volumev3'
    busy = BUSY

    def __init__(self, conn):
        super().__init__(conn)
        self.names = {}

    def fetch(self):
        snaps = rest.get('volumev3', '/snapshots/detail', conn=self.conn)['snapshots']
        if {s.get('volume_id') for s in snaps} - set(self.names):
            self.names, _err = volume_names(self.conn)
        return decorate(snaps, self.names)

    def stamp(self, s):
        return (s.get('status'), s.get('name'), s.get('progress'), s.get('updated_at'))

    def row(self, s):
        return flask.render_template('volume_snapshots/_row.html', s=s)

    def badge(self, s):
        return flask.render_template('volume_snapshots/_status.html', s=s)


WATCH = {'snapshots': SnapshotWatch}


@bp.route('/')
@signed_in
def index():
    limit, marker = paging()
    args = flask.request.args
    params = {k: args[k] for k in FILTERS if args.get(k)}
    params['limit'] = limit
    if marker:
        params['marker'] = marker
    snaps = rest.get('volumev3', '/snapshots/detail', **params)['snapshots']
    names, names_err = volume_names() if snaps else ({}, None)
    filters = {k: args.get(k, '') for k in FILTERS}
    next_marker = snaps[-1]['id'] if len(snaps) >= limit else None
    return flask.render_template('volume_snapshots/index.html',
                                 snapshots=decorate(snaps, names), names_err=names_err,
                                 filters=filters, statuses=STATUSES, limit=limit,
                                 marker=marker, next_marker=next_marker,
                                 live_watch=['snapshots'])


@bp.route('/<snapshot_id>')
@signed_in
def detail(snapshot_id):
    snap = rest.get('volumev3', '/snapshots/%s' % snapshot_id)['snapshot']
    vol, vol_err = rest.attempt('volumev3', 'GET', '/volumes/%s' % snap['volume_id'])
    names = {snap['volume_id']: (vol or {}).get('volume', {}).get('name') or snap['volume_id']}
    return flask.render_template('volume_snapshots/detail.html', s=decorate([snap], names)[0],
                                 vol_err=vol_err if vol_err and vol_err.status != 404 else None,
                                 volume_gone=bool(vol_err and vol_err.status == 404),
                                 live_watch=['snapshots'])


@bp.route('/<snapshot_id>/edit', methods=['POST'])
@signed_in
def edit(snapshot_id):
    body = {'name': rest.form('name'), 'description': rest.form('description')}
    rest.call('volumev3', 'PUT', '/snapshots/%s' % snapshot_id, {'snapshot': body})
    return rest.done('Snapshot %s saved.' % (body['name'] or snapshot_id),
                     flask.url_for('volume_snapshots.detail', snapshot_id=snapshot_id))


@bp.route('/<snapshot_id>/delete', methods=['POST'])
@signed_in
def delete(snapshot_id):
    rest.call('volumev3', 'DELETE', '/snapshots/%s' % snapshot_id)
    return rest.done('Snapshot %s is being deleted.' % (rest.form('label') or snapshot_id),
                     flask.url_for('volume_snapshots.index'))
