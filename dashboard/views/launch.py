"""Launch instance: the form (name, boot source, flavor, networks or ports,
security groups, key pair, user data, count, boot from volume) and its
POST /servers.

The page carries what the choices need to be judged before anything is
sent: each flavor's size, each source's size, and the quota left (compute
GET /limits; volume GET /limits when a volume would be made), so
static/launch.js shows what the launch would leave and refuses what clearly
exceeds it. The API stays the judge: when it refuses anyway, the form comes
back filled in with its message, HTTP status and request id.

The route is ``instances.launch`` (on the instances blueprint, so the list's
button finds it); this module's own blueprint holds nothing else.
"""

import base64
import binascii
import concurrent.futures

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import instances
from dashboard.views import signed_in

bp = flask.Blueprint('launch', __name__)

SOURCES = (('image', 'Image'), ('snapshot', 'Instance snapshot'), ('volume', 'Volume'),
           ('volume_snapshot', 'Volume snapshot'))
VOLUME_SOURCES = ('volume', 'volume_snapshot')
MAX_COUNT = 100
USER_DATA_MAX = 65535        # the compute API's limit, on the base64 text


# -- what the form offers (each fetched on its own: a service that is down
#    only empties its own fields) -------------------------------------------

def _flavors(conn):
    body = rest.get('compute', '/flavors/detail', conn=conn)
    flavors = [{'id': f['id'], 'name': f['name'], 'vcpus': f['vcpus'], 'ram': f['ram'],
                'disk': f['disk']} for f in body['flavors']
               if not f.get('OS-FLV-DISABLED:disabled')]
    return sorted(flavors, key=lambda f: (f['vcpus'], f['ram'], f['disk'], f['name']))


def list_images(conn, **params):
    """Every image the user sees that matches ``params`` (follows Glance's
    marker paging)."""
    out, marker = [], None
    while True:
        page = dict(params, limit=200, **({'marker': marker} if marker else {}))
        body = rest.get('image', '/images', conn=conn, **page)
        out.extend(body['images'])
        if not body.get('next') or not body['images']:
            return out
        marker = body['images'][-1]['id']


def _images(conn):
    found = list_images(conn, status='active', sort='name:asc')
    return [{'id': i['id'], 'name': i.get('name') or i['id'], 'min_disk': i.get('min_disk') or 0,
             'min_ram': i.get('min_ram') or 0,
             'size': max(i.get('size') or 0, i.get('virtual_size') or 0),
             'snapshot': i.get('image_type') == 'snapshot'} for i in found]


def _volumes(conn):
    body = rest.get('volumev3', '/volumes/detail', conn=conn, status='available')
    return [{'id': v['id'], 'name': v.get('name') or v['id'], 'size': v['size']}
            for v in body['volumes'] if str(v.get('bootable')).lower() == 'true']


def _volume_snapshots(conn):
    body = rest.get('volumev3', '/snapshots/detail', conn=conn, status='available')
    return [{'id': s['id'], 'name': s.get('name') or s['id'], 'size': s['size']}
            for s in body['snapshots']]


def _network_parts(conn, project_id):
    nets = rest.get('network', '/networks', conn=conn)['networks']
    nets = [{'id': n['id'], 'name': n.get('name') or n['id'], 'shared': n.get('shared')}
            for n in nets if n.get('shared') or not n.get('router:external')]
    ports = rest.get('network', '/ports', conn=conn, project_id=project_id)['ports']
    names = {n['id']: n['name'] for n in nets}
    ports = [{'id': p['id'], 'name': p.get('name') or p['id'][:8],
              'ips': [ip['ip_address'] for ip in p.get('fixed_ips') or ()],
              'network': names.get(p['network_id'], p['network_id'])}
             for p in ports if not p.get('device_id') and not p.get('device_owner')]
    groups = rest.get('network', '/security-groups', conn=conn,
                      project_id=project_id)['security_groups']
    counts = {}
    for g in groups:
        counts[g['name']] = counts.get(g['name'], 0) + 1
    # The command line takes a name when it is unambiguous, else the id.
    groups = [{'id': g['id'], 'name': g['name'],
               'ref': g['name'] if counts[g['name']] == 1 else g['id']} for g in groups]
    return {'networks': sorted(nets, key=lambda n: n['name']), 'ports': ports,
            'security_groups': sorted(groups, key=lambda g: g['name'])}


def _keypairs(conn):
    body = rest.get('compute', '/os-keypairs', conn=conn)
    return sorted(k['keypair']['name'] for k in body['keypairs'])


def _compute_quota(conn):
    a = rest.get('compute', '/limits', conn=conn)['limits']['absolute']
    return {'instances': [a.get('totalInstancesUsed', 0), a.get('maxTotalInstances', -1)],
            'cores': [a.get('totalCoresUsed', 0), a.get('maxTotalCores', -1)],
            'ram': [a.get('totalRAMUsed', 0), a.get('maxTotalRAMSize', -1)]}


def _volume_quota(conn):
    a = rest.get('volumev3', '/limits', conn=conn)['limits']['absolute']
    return {'volumes': [a.get('totalVolumesUsed', 0), a.get('maxTotalVolumes', -1)],
            'gigabytes': [a.get('totalGigabytesUsed', 0), a.get('maxTotalVolumeGigabytes', -1)]}


def choices(conn, project_id):
    """{part: (value, APIError or None)}, the parts fetched side by side."""
    jobs = {'flavors': ('compute', _flavors), 'images': ('image', _images),
            'volumes': ('volumev3', _volumes), 'volume_snapshots': ('volumev3',
                                                                    _volume_snapshots),
            'network': ('network', lambda c: _network_parts(c, project_id)),
            'keypairs': ('compute', _keypairs), 'quota': ('compute', _compute_quota),
            'volume_quota': ('volumev3', _volume_quota)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(cloud.attempt, service, fn, conn)
                   for name, (service, fn) in jobs.items()}
    return {name: f.result() for name, f in futures.items()}


# -- the request -------------------------------------------------------------

class FormError(ValueError):
    """Input the dashboard refuses before asking the API (names the field)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def _count(form, key, default):
    raw = (form.get(key) or '').strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FormError(key, '%s must be a whole number, not %r.'
                        % (key.replace('_', ' ').capitalize(), raw)) from None
    if not 1 <= value <= MAX_COUNT:
        raise FormError(key, '%s must be between 1 and %d.'
                        % (key.replace('_', ' ').capitalize(), MAX_COUNT))
    return value


def _size(form):
    raw = (form.get('volume_size') or '').strip()
    if not raw:
        return None
    try:
        size = int(raw)
    except ValueError:
        raise FormError('volume_size', 'The volume size is a whole number of GiB, not %r.'
                        % raw) from None
    if size < 1:
        raise FormError('volume_size', 'The volume size must be at least 1 GiB.')
    return size


def _mapping(uuid, source, form, size=None):
    bdm = {'uuid': uuid, 'source_type': source, 'destination_type': 'volume',
           'boot_index': 0, 'delete_on_termination': form.get('delete_on_termination') == 'yes'}
    if size is not None:
        bdm['volume_size'] = size
    return bdm


def build_request(form):
    """The POST /servers body for the submitted form; FormError for input
    that cannot make a request at all (the API judges the rest)."""
    name = (form.get('name') or '').strip()
    if not name:
        raise FormError('name', 'Give the instance a name.')
    flavor = form.get('flavor')
    if not flavor:
        raise FormError('flavor', 'Choose a flavor.')
    source = form.get('source_type') or 'image'
    if source not in dict(SOURCES):
        raise FormError('source_type', 'Unknown boot source %r.' % source)
    source_id = form.get(source)
    if not source_id:
        raise FormError(source, 'Choose the %s to boot from.' % dict(SOURCES)[source].lower())
    min_count = _count(form, 'min_count', 1)
    max_count = _count(form, 'max_count', min_count)
    if max_count < min_count:
        raise FormError('max_count', 'The most instances (%d) cannot be fewer than the '
                                     'least (%d).' % (max_count, min_count))
    server = {'name': name, 'flavorRef': flavor, 'min_count': min_count,
              'max_count': max_count}
    from_volume = source in VOLUME_SOURCES or form.get('boot_from_volume') == 'yes'
    if from_volume and max_count > 1:
        raise FormError('max_count', 'An instance that boots from a volume is launched one '
                                     'at a time: set the count to 1.')
    size = _size(form) if from_volume else None
    if source in ('image', 'snapshot'):
        if from_volume:
            server['imageRef'] = ''
            server['block_device_mapping_v2'] = [_mapping(source_id, 'image', form, size)]
        else:
            server['imageRef'] = source_id
    elif source == 'volume':
        server['block_device_mapping_v2'] = [_mapping(source_id, 'volume', form)]
    else:
        server['block_device_mapping_v2'] = [_mapping(source_id, 'snapshot', form, size)]
    networks = [{'uuid': n} for n in form.getlist('networks') if n]
    networks += [{'port': p} for p in form.getlist('ports') if p]
    server['networks'] = networks or 'auto'
    groups = [g for g in form.getlist('security_groups') if g]
    if groups:
        server['security_groups'] = [{'name': g} for g in groups]
    if form.get('key_name'):
        server['key_name'] = form['key_name']
    user_data = (form.get('user_data') or '').replace('\r\n', '\n')
    if user_data.strip():
        encoded = base64.b64encode(user_data.encode()).decode()
        if len(encoded) > USER_DATA_MAX:
            raise FormError('user_data', 'User data is %d bytes once base64-encoded; the '
                                         'compute API takes at most %d.'
                            % (len(encoded), USER_DATA_MAX))
        server['user_data'] = encoded
    return {'server': server}


def decode_user_data(text):
    """The user data text of a base64 value (for tests and display)."""
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _create(conn, body):
    resp = rest.send('compute', 'POST', '/servers', body, conn=conn)
    return resp.json()['server'], resp.headers.get('x-openstack-request-id')


# -- the page ----------------------------------------------------------------

def _render(conn, form, error=None, field=None, status=200):
    me = flask.session['me']
    parts = choices(conn, me['project_id'])
    network, network_err = parts.pop('network')
    data = {'quota': parts['quota'][0], 'volume_quota': parts['volume_quota'][0],
            'flavors': {f['id']: f for f in parts['flavors'][0] or ()},
            'images': {i['id']: i for i in parts['images'][0] or ()},
            'volumes': {v['id']: v for v in parts['volumes'][0] or ()},
            'volume_snapshots': {s['id']: s for s in parts['volume_snapshots'][0] or ()},
            'max_count': MAX_COUNT}
    html = flask.render_template(
        'launch/form.html', parts=parts, network=network or {}, network_err=network_err,
        form=form, error=error, field=field, sources=SOURCES, data=data, max_count=MAX_COUNT)
    return html, status


def launch():
    conn = cloud.conn()
    if flask.request.method == 'GET':
        return _render(conn, flask.request.args)
    form = flask.request.form
    try:
        body = build_request(form)
    except FormError as err:
        return _render(conn, form, error=str(err), field=err.field, status=400)
    try:
        server, request_id = _create(conn, body)
    except cloud.APIError as err:
        # The API's refusal, on the form that caused it (still filled in).
        return _render(conn, form, error=err, status=err.status or 503)
    count = body['server']['max_count']
    what = body['server']['name'] if count == 1 else '%s (up to %d instances)' % (
        body['server']['name'], count)
    flask.flash('Launching %s: server %s%s.' % (what, server['id'],
                                                ', request %s' % request_id
                                                if request_id else ''), 'success')
    return flask.redirect(flask.url_for('instances.index'))


instances.bp.add_url_rule('/launch', 'launch', signed_in(launch), methods=['GET', 'POST'])
