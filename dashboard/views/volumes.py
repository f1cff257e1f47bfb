"""Volumes: the project's volumes with live status (the page's event stream
watches them, dashboard/live.py), a volume's detail with every action the
volume and compute APIs offer a member (edit, extend, attach to a server,
detach, snapshot, delete), and the create form (empty, from an image, a
volume snapshot or another volume; size, type, availability zone).

Every form shows its ``openstack`` command and is sent by htmx: a refusal
shows the API's message, status and request id above the form, which keeps
what was typed; without JavaScript the same forms post plainly.
"""

import flask

from dashboard import cloud
from dashboard import live
from dashboard import rest
from dashboard import tasks
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('volumes', __name__, url_prefix='/volumes')
NAV = [('volumes.index', 'Volumes')]
BUSY = tasks.VOLUME_BUSY
FILTERS = ('name', 'status')
STATUSES = ('available', 'in-use', 'creating', 'attaching', 'detaching', 'extending',
            'deleting', 'error', 'error_extending', 'error_deleting')
SOURCES = (('empty', 'Empty volume'), ('image', 'Image'), ('snapshot', 'Volume snapshot'),
           ('volume', 'Another volume'))


def decorate(vols, names):
    """What a row shows beyond the API's fields: the attached servers'
    names, whether the volume is in transition."""
    for v in vols:
        v['label'] = v.get('name') or v['id']
        v['busy'] = v.get('status') in BUSY
        for a in v.get('attachments') or ():
            a['server_name'] = names.get(a.get('server_id')) or a.get('server_id')
    return vols


class VolumeWatch(live.ListWatch):
    """The project's volumes for the event stream (?watch=volumes)."""

    kind = 'volume'
    service = 'volumev3'
    busy = BUSY

    def __init__(self, conn):
        super().__init__(conn)
        self.names = {}

    def fetch(self):
        vols = rest.get('volumev3', '/volumes/detail', conn=self.conn)['volumes']
        wanted = {a.get('server_id') for v in vols for a in v.get('attachments') or ()}
        if wanted - set(self.names):
            self.names, _err = rest.server_names(self.conn)
        return decorate(vols, self.names)

    def stamp(self, v):
        return (v.get('status'), v.get('name'), v.get('size'), v.get('bootable'),
                v.get('updated_at'), tuple(sorted((a.get('server_id') or '', a.get('device') or '')
                                                  for a in v.get('attachments') or ())))

    def row(self, v):
        return flask.render_template('volumes/_row.html', v=v)

    def badge(self, v):
        return flask.render_template('volumes/_status.html', v=v)


WATCH = {'volumes': VolumeWatch}


def _volume(volume_id):
    return rest.get('volumev3', '/volumes/%s' % volume_id)['volume']


@bp.route('/')
@signed_in
def index():
    limit, marker = paging()
    args = flask.request.args
    params = {k: args[k] for k in FILTERS if args.get(k)}
    params['limit'] = limit
    if marker:
        params['marker'] = marker
    vols = rest.get('volumev3', '/volumes/detail', **params)['volumes']
    names, names_err = rest.server_names() if any(v.get('attachments') for v in vols) \
        else ({}, None)
    filters = {k: args.get(k, '') for k in FILTERS}
    next_marker = vols[-1]['id'] if len(vols) >= limit else None
    return flask.render_template('volumes/index.html', volumes=decorate(vols, names),
                                 names_err=names_err, filters=filters, statuses=STATUSES,
                                 limit=limit, marker=marker, next_marker=next_marker,
                                 live_watch=['volumes'])


# -- create -----------------------------------------------------------------------

def _choices():
    """The create form's lists, each on its own: a service that fails
    leaves its select empty with its error beside it."""
    images, img_err = rest.attempt('image', 'GET', '/images', status='active', limit=200)
    snaps, snap_err = rest.attempt('volumev3', 'GET', '/snapshots/detail', status='available')
    vols, vol_err = rest.attempt('volumev3', 'GET', '/volumes/detail')
    types, type_err = rest.attempt('volumev3', 'GET', '/types')
    zones, zone_err = rest.attempt('volumev3', 'GET', '/os-availability-zone')
    return {
        'images': sorted((images or {}).get('images', ()),
                         key=lambda i: (i.get('name') or '').lower()),
        'snapshots': (snaps or {}).get('snapshots', []),
        'volumes': [v for v in (vols or {}).get('volumes', ())
                    if v.get('status') in ('available', 'in-use')],
        'types': (types or {}).get('volume_types', []),
        'zones': [z['zoneName'] for z in (zones or {}).get('availabilityZoneInfo', ())
                  if (z.get('zoneState') or {}).get('available', True)],
        'errors': [e for e in (img_err, snap_err, vol_err, type_err, zone_err) if e],
    }


@bp.route('/create', methods=['GET'])
@signed_in
def create_form():
    args = flask.request.args
    source = next((s for s, _l in SOURCES[1:] if args.get(s)), args.get('source', 'empty'))
    form = {'source': source, 'image': args.get('image', ''),
            'snapshot': args.get('snapshot', ''), 'volume': args.get('volume', ''),
            'size': args.get('size', '' if source != 'empty' else '1')}
    return flask.render_template('volumes/create.html', form=form, sources=SOURCES,
                                 **_choices())


@bp.route('/create', methods=['POST'])
@signed_in
def create():
    source = rest.form('source', 'empty')
    body = {'name': rest.form('name') or None, 'description': rest.form('description') or None,
            'size': rest.number(rest.form('size')),
            'volume_type': rest.form('volume_type') or None,
            'availability_zone': rest.form('availability_zone') or None}
    field = {'image': 'imageRef', 'snapshot': 'snapshot_id', 'volume': 'source_volid'}
    if source in field:
        chosen = rest.form(source)
        if not chosen:
            rest.refuse('Choose the %s to create the volume from.'
                        % dict(SOURCES)[source].lower())
        body[field[source]] = chosen
    elif source != 'empty':
        rest.refuse('Unknown source %r: empty, image, snapshot or volume.' % source)
    vol = rest.call('volumev3', 'POST', '/volumes', {'volume': body})['volume']
    return rest.done('Volume %s is being created.' % (vol.get('name') or vol['id']),
                     flask.url_for('volumes.index'))


# -- one volume -------------------------------------------------------------------

def _detail(volume_id):
    vol = _volume(volume_id)
    names, names_err = rest.server_names()
    snaps, snaps_err = rest.attempt('volumev3', 'GET', '/snapshots/detail',
                                    volume_id=volume_id)
    attached = {a.get('server_id') for a in vol.get('attachments') or ()}
    return {'v': decorate([vol], names)[0], 'names_err': names_err,
            'servers': sorted(((sid, name) for sid, name in names.items()
                               if sid not in attached), key=lambda s: s[1].lower()),
            'snapshots': (snaps or {}).get('snapshots', []), 'snaps_err': snaps_err}


@bp.route('/<volume_id>')
@signed_in
def detail(volume_id):
    return flask.render_template('volumes/detail.html', live_watch=['volumes', 'snapshots'],
                                 **_detail(volume_id))


@bp.route('/<volume_id>/part')
@signed_in
def detail_part(volume_id):
    """The detail's body again, when the stream says the volume changed."""
    try:
        data = _detail(volume_id)
    except cloud.APIError as err:
        if err.status != 404:
            raise
        return flask.render_template('volumes/_gone.html', volume_id=volume_id, err=err)
    return flask.render_template('volumes/_detail_body.html', **data)


def _label(volume_id):
    return rest.form('label') or volume_id


@bp.route('/<volume_id>/edit', methods=['POST'])
@signed_in
def edit(volume_id):
    body = {'name': rest.form('name'), 'description': rest.form('description')}
    rest.call('volumev3', 'PUT', '/volumes/%s' % volume_id, {'volume': body})
    return rest.done('Volume %s saved.' % (body['name'] or volume_id),
                     flask.url_for('volumes.detail', volume_id=volume_id))


@bp.route('/<volume_id>/extend', methods=['POST'])
@signed_in
def extend(volume_id):
    size = rest.number(rest.form('size'))
    rest.call('volumev3', 'POST', '/volumes/%s/action' % volume_id,
              {'os-extend': {'new_size': size}})
    return rest.done('Volume %s is being extended to %s GiB.' % (_label(volume_id), size),
                     flask.url_for('volumes.detail', volume_id=volume_id))


@bp.route('/<volume_id>/attach', methods=['POST'])
@signed_in
def attach(volume_id):
    server_id = rest.form('server')
    if not server_id:
        rest.refuse('Choose the server to attach the volume to.')
    attachment = {'volumeId': volume_id}
    if rest.form('device'):
        attachment['device'] = rest.form('device')
    rest.call('compute', 'POST', '/servers/%s/os-volume_attachments' % server_id,
              {'volumeAttachment': attachment})
    return rest.done('Volume %s is being attached.' % _label(volume_id),
                     flask.url_for('volumes.detail', volume_id=volume_id))


@bp.route('/<volume_id>/detach', methods=['POST'])
@signed_in
def detach(volume_id):
    server_id = rest.form('server')
    if not server_id:
        rest.refuse('Say which server to detach the volume from.')
    rest.call('compute', 'DELETE', '/servers/%s/os-volume_attachments/%s'
              % (server_id, volume_id))
    return rest.done('Volume %s is being detached.' % _label(volume_id),
                     flask.url_for('volumes.detail', volume_id=volume_id))


@bp.route('/<volume_id>/snapshot', methods=['POST'])
@signed_in
def snapshot(volume_id):
    body = {'volume_id': volume_id, 'name': rest.form('name') or None,
            'description': rest.form('description') or None,
            'force': bool(rest.form('force'))}
    snap = rest.call('volumev3', 'POST', '/snapshots', {'snapshot': body})['snapshot']
    return rest.done('Snapshot %s of volume %s is being made.'
                     % (snap.get('name') or snap['id'], _label(volume_id)),
                     flask.url_for('volumes.detail', volume_id=volume_id))


@bp.route('/<volume_id>/delete', methods=['POST'])
@signed_in
def delete(volume_id):
    rest.call('volumev3', 'DELETE', '/volumes/%s' % volume_id)
    return rest.done('Volume %s is being deleted.' % _label(volume_id),
                     flask.url_for('volumes.index'))
