"""Instances: the project's servers with live status (rows are replaced by
the live-update stream, views/events.py), filters and marker paging in the
URL."""

import time

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('instances', __name__, url_prefix='/instances')
NAV = [('instances.index', 'Instances')]

FILTERS = ('name', 'status', 'flavor', 'image', 'ip')
TRANSITIONAL = {'BUILD', 'REBOOT', 'HARD_REBOOT', 'RESIZE', 'MIGRATING', 'REBUILD',
                'PASSWORD', 'VERIFY_RESIZE', 'REVERT_RESIZE'}
_NAMES_TTL = 60
_NAMES_FAILED_TTL = 5    # a service that failed is asked again soon
_names = {}


def _names_of(conn, kind):
    """{id: name} of images or flavors the user can see (kept a minute per
    token: names rarely change and a list page must not wait for them). If
    the service fails, the page still shows (ids for names) and says which
    service failed (cloud.degraded)."""
    key = (flask.session['scoped']['token'], kind)
    hit = _names.get(key)
    if hit and hit[0] > time.monotonic():
        found, err = hit[1], hit[2]
    else:
        if kind == 'images':
            found, err = cloud.attempt('image', lambda: {i.id: i.name
                                                         for i in conn.image.images()})
        else:
            found, err = cloud.attempt('compute', lambda: {f.id: f.name for f in
                                                           conn.compute.flavors()})
        found = found or {}
        if len(_names) > 2048:
            _names.clear()
        _names[key] = (time.monotonic() + (_NAMES_FAILED_TTL if err else _NAMES_TTL), found,
                       err)
    if err:
        cloud.degraded(err, '%s names show as ids until it answers.' % kind[:-1].capitalize())
    return found


def decorate(conn, servers):
    """Add what a row shows beyond the API's fields: image name, addresses
    as text, whether the server is in transition."""
    images = _names_of(conn, 'images')
    for s in servers:
        image = s.get('image') or {}
        s['image_name'] = (images.get(image.get('id')) or image.get('id') or
                           'boot volume') if image else 'boot volume'
        flavor = s.get('flavor') or {}
        s['flavor_name'] = flavor.get('original_name') or flavor.get('id') or ''
        s['ips'] = [a['addr'] for net in (s.get('addresses') or {}).values() for a in net]
        s['busy'] = bool(s.get('OS-EXT-STS:task_state')) or s.get('status') in TRANSITIONAL
    return servers


def list_page(conn, args, limit, marker):
    params = {k: args[k] for k in FILTERS if args.get(k)}
    params['limit'] = limit
    if marker:
        params['marker'] = marker
    servers = rest.get('compute', '/servers/detail', conn=conn, **params)['servers']
    return decorate(conn, servers)


@bp.route('/')
@signed_in
def index():
    conn = cloud.conn()
    limit, marker = paging()
    servers = list_page(conn, flask.request.args, limit, marker)
    filters = {k: flask.request.args.get(k, '') for k in FILTERS}
    next_marker = servers[-1]['id'] if len(servers) >= limit else None
    return flask.render_template('instances/index.html', servers=servers, filters=filters,
                                 next_marker=next_marker, limit=limit, marker=marker)
