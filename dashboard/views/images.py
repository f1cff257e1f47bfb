"""Images: the list (all the user sees, or the project's own, shared or
public ones; filters and marker paging in the URL), detail, upload, edit
(a JSON patch of what changed) and delete.

An upload is two requests from the browser (static/images.js): the form's
fields make the record (POST /v2/images), then the file itself goes as the
raw body of a PUT to this dashboard, which passes it on to
PUT /v2/images/{id}/file in chunks, as it reads it: a generator body
through the user's keystoneauth session, sent chunked. The dashboard never
holds the file (its server spools a large request body to a temporary
file, never to memory), and the browser shows the upload's progress.
"""

import json
import urllib.parse

import flask

from dashboard import cloud
from dashboard import errors
from dashboard import rest
from dashboard.views import launch
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('images', __name__, url_prefix='/images')
NAV = [('images.index', 'Images')]

CHUNK = 256 * 1024
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
DISK_FORMATS = ('qcow2', 'raw', 'vmdk', 'vdi', 'vhd', 'vhdx', 'iso', 'ploop', 'ami', 'ari',
                'aki')
CONTAINER_FORMATS = ('bare', 'ovf', 'ova', 'docker', 'compressed', 'ami', 'ari', 'aki')
VISIBILITIES = ('private', 'shared', 'community', 'public')
# Tabs of the list: name -> the list's query.
TABS = (('all', 'All', {}), ('project', 'Project', None), ('shared', 'Shared', {
    'visibility': 'shared'}), ('public', 'Public', {'visibility': 'public'}))
FILTERS = ('name', 'status', 'disk_format')
BUSY = ('saving', 'importing', 'uploading')
# What an image record has that is not one of its free-form properties.
BASE = {'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'disk_format',
        'container_format', 'min_disk', 'min_ram', 'size', 'virtual_size', 'checksum',
        'os_hash_algo', 'os_hash_value', 'owner', 'tags', 'created_at', 'updated_at', 'self',
        'file', 'schema', 'direct_url', 'locations', 'stores'}


def human_size(n):
    if n is None:
        return ''
    for unit in ('bytes', 'KiB', 'MiB', 'GiB'):
        if n < 1024 or unit == 'GiB':
            return ('%d %s' if unit == 'bytes' else '%.1f %s') % (n, unit)
        n /= 1024.0
    return ''


def properties(image):
    return {k: v for k, v in sorted(image.items()) if k not in BASE}


def _path(image_id, tail=''):
    return '/images/%s%s' % (urllib.parse.quote(image_id, safe=''), tail)


def _get(conn, image_id):
    return rest.call('image', 'GET', _path(image_id), conn=conn)


def _context(**extra):
    return dict(human_size=human_size, properties=properties, BUSY=BUSY, **extra)


# -- list and detail --------------------------------------------------------

@bp.route('/')
@signed_in
def index():
    conn = cloud.conn()
    me = flask.session['me']
    tab = flask.request.args.get('tab', 'all')
    query = dict(TABS[0][2])
    for name, _label, q in TABS:
        if name == tab:
            query = dict(q if q is not None else {'owner': me['project_id']})
    args = flask.request.args
    query.update({k: args[k] for k in FILTERS if args.get(k)})
    limit, marker = paging()
    query['limit'] = limit
    if marker:
        query['marker'] = marker
    body, err = rest.attempt('image', 'GET', '/images', conn=conn, **query)
    images = (body or {}).get('images', [])
    next_marker = images[-1]['id'] if body and body.get('next') and images else None
    return flask.render_template('images/index.html', **_context(
        images=images, err=err, tab=tab, tabs=TABS, filters={k: args.get(k, '') for k in FILTERS},
        limit=limit, marker=marker, next_marker=next_marker, me=me))


@bp.route('/<image_id>/row')
@signed_in
def row(image_id):
    """One row of the list (a row in a transient status asks for itself
    again until the status settles)."""
    image = _get(cloud.conn(), image_id)
    return flask.render_template('images/_row.html', **_context(i=image,
                                                                me=flask.session['me']))


@bp.route('/<image_id>')
@signed_in
def detail(image_id):
    image = _get(cloud.conn(), image_id)
    return flask.render_template('images/detail.html', **_context(i=image))


# -- upload -----------------------------------------------------------------

def _int(form, key):
    raw = (form.get(key) or '').strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise launch.FormError(key, '%s must be a whole number, not %r.'
                               % (key.replace('_', ' ').capitalize(), raw)) from None
    if value < 0:
        raise launch.FormError(key, '%s cannot be negative.'
                               % key.replace('_', ' ').capitalize())
    return value


def parse_properties(form):
    """{key: value} from the form's property rows ('key=value' each)."""
    props = {}
    for line in form.getlist('property'):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition('=')
        key = key.strip()
        if not sep or not key:
            raise launch.FormError('property', 'A property is written key=value, not %r.'
                                   % line)
        if key in BASE:
            raise launch.FormError('property', '%s is an attribute of the image, not a '
                                               'property: set it with its own field.' % key)
        props[key] = value.strip()
    return props


def create_body(form):
    """The POST /v2/images body for the upload form; FormError for bad input."""
    name = (form.get('name') or '').strip()
    if not name:
        raise launch.FormError('name', 'Give the image a name.')
    body = {'name': name, 'disk_format': form.get('disk_format') or 'qcow2',
            'container_format': form.get('container_format') or 'bare',
            'visibility': form.get('visibility') or 'private',
            'protected': form.get('protected') == 'protected'}
    for key in ('min_disk', 'min_ram'):
        value = _int(form, key)
        if value is not None:
            body[key] = value
    body.update(parse_properties(form))
    return body


@bp.route('/upload')
@signed_in
def upload():
    return flask.render_template('images/upload.html', disk_formats=DISK_FORMATS,
                                 container_formats=CONTAINER_FORMATS,
                                 visibilities=VISIBILITIES)


def _bad_input(err):
    return errors.render_error(400, 'The form needs a change', str(err))


def _send(conn, image_id, stream, size):
    """PUT /v2/images/{id}/file with ``stream``'s bytes, read and sent a
    chunk at a time (chunked transfer; the announced size lets the image
    service refuse a body that ended early)."""
    def chunks():
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                return
            yield chunk
    headers = {'Content-Type': 'application/octet-stream'}
    if size is not None:
        headers['X-OpenStack-Image-Size'] = str(size)
    rest.send('image', 'PUT', _path(image_id, '/file'), conn=conn, data=chunks(),
              headers=headers)


@bp.route('/create', methods=['POST'])
@signed_in
def create():
    """Make the record. From the page's script: answer its id and where to
    send the file. Without script (a multipart form with the file): send
    the file from the form's spooled upload too, then show the image."""
    conn = cloud.conn()
    try:
        body = create_body(flask.request.form)
    except launch.FormError as err:
        return _bad_input(err)
    image = rest.call('image', 'POST', '/images', body, conn=conn)
    upload_file = flask.request.files.get('file')
    if upload_file:
        _send(conn, image['id'], upload_file.stream, None)
        flask.flash('Uploaded image %s.' % image['name'], 'success')
        return flask.redirect(flask.url_for('images.detail', image_id=image['id']))
    return flask.jsonify(id=image['id'], name=image['name'],
                         upload=flask.url_for('images.upload_file', image_id=image['id']),
                         detail=flask.url_for('images.detail', image_id=image['id']))


@bp.route('/<image_id>/file', methods=['PUT'])
@signed_in
def upload_file(image_id):
    """The browser's PUT of the file, passed on as it is read."""
    _send(cloud.conn(), image_id, flask.request.stream, flask.request.content_length)
    return '', 204


# -- edit and delete --------------------------------------------------------

def _escape(key):
    return key.replace('~', '~0').replace('/', '~1')


def patch_ops(image, form):
    """The JSON patch (RFC 6902, Glance's v2.1 media type) from ``image`` to
    what the edit form says: only what changed."""
    ops = []
    wanted = {'name': (form.get('name') or '').strip() or image.get('name'),
              'visibility': form.get('visibility') or image.get('visibility'),
              'protected': form.get('protection', 'protected' if image.get('protected')
                                    else 'unprotected') == 'protected'}
    for key in ('min_disk', 'min_ram'):
        value = _int(form, key)
        wanted[key] = (image.get(key) or 0) if value is None else value
    for key, value in wanted.items():
        if image.get(key) != value:
            ops.append({'op': 'replace', 'path': '/' + key, 'value': value})
    have = properties(image)
    new = parse_properties(form)
    for key, value in new.items():
        if have.get(key) != value:
            ops.append({'op': 'add', 'path': '/' + _escape(key), 'value': value})
    for key in have:
        if key not in new:
            ops.append({'op': 'remove', 'path': '/' + _escape(key)})
    return ops


@bp.route('/<image_id>/edit', methods=['GET', 'POST'])
@signed_in
def edit(image_id):
    conn = cloud.conn()
    image = _get(conn, image_id)
    form, error, status = None, None, 200
    if flask.request.method == 'POST':
        form = flask.request.form
        try:
            ops = patch_ops(image, form)
            if not ops:
                flask.flash('Nothing changed on image %s.' % image.get('name'), 'info')
                return flask.redirect(flask.url_for('images.detail', image_id=image_id))
            rest.send('image', 'PATCH', _path(image_id), conn=conn, data=json.dumps(ops),
                      headers={'Content-Type': PATCH_TYPE})
        except (launch.FormError, cloud.APIError) as err:
            error, status = err, getattr(err, 'status', None) or 400
        else:
            flask.flash('Saved image %s (%d change%s).' % (image.get('name'), len(ops),
                                                          '' if len(ops) == 1 else 's'),
                        'success')
            return flask.redirect(flask.url_for('images.detail', image_id=image_id))
    return flask.render_template('images/edit.html', **_context(
        i=image, form=form, error=error, visibilities=VISIBILITIES)), status


@bp.route('/<image_id>/delete', methods=['POST'])
@signed_in
def delete(image_id):
    conn = cloud.conn()
    rest.call('image', 'DELETE', _path(image_id), conn=conn)
    name = flask.request.form.get('name') or image_id
    message = 'Deleted image %s.' % name
    if errors.is_htmx():
        return flask.render_template('_oob_alert.html', kind='success', msg=message)
    flask.flash(message, 'success')
    return flask.redirect(flask.url_for('images.index'))
