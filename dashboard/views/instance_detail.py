"""One instance: its detail page and the parts of it that refresh alone.

The page (``instances.detail``, the list rows link it) shows a header with
the live status, the actions bar (views/instance_actions.py) and one tab:
overview (properties, flavor, image, key pair, metadata, security groups,
the fault with the scheduler's explanation), interfaces and addresses,
volumes, the action log with its events and request ids, the console log
(with a follow mode), the serial console (xterm.js straight to the serial
proxy) and the graphical console (noVNC in a frame).

Every part is also served alone (``instance_detail.part``) so the page
re-fetches just it when the live-update stream says the server changed
(``sse:server-<id>-status``) or an action was accepted
(``instance-changed``). Each part asks only the services it shows, each
through ``cloud.attempt``: a service that is down costs its part, not the
page.
"""

import re

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import instance_actions as actions
from dashboard.views import instances
from dashboard.views import is_admin
from dashboard.views import signed_in

bp = flask.Blueprint('instance_detail', __name__, url_prefix='/instances')

TABS = (('overview', 'Overview'), ('interfaces', 'Interfaces'), ('volumes', 'Volumes'),
        ('log', 'Action log'), ('console-log', 'Console log'), ('console', 'Serial console'),
        ('graphical', 'Graphical console'))
# The tabs whose content follows the server's changes (the consoles keep
# their own connection and must not be swapped away under the user).
LIVE_TABS = ('overview', 'interfaces', 'volumes', 'log')
POWER_STATES = {0: 'no state', 1: 'running', 3: 'paused', 4: 'shut down', 6: 'crashed',
                7: 'suspended'}
VOLUME_BUSY = {'creating', 'attaching', 'detaching', 'reserved', 'deleting', 'extending'}
CONSOLE_LINES = (50, 100, 200, 500, 1000)
DEFAULT_CONSOLE_LINES = 200
MAX_CONSOLE_LINES = 10000

# -- the scheduler's explanation in a fault ------------------------------------

_NO_HOST = 'No valid host was found.'
_FILTER = re.compile(r'(\w+) removed (\d+) of (\d+) hosts?: ')
_EARLIER = re.compile(r'Earlier attempts failed \(last: (.*)\)\.\s*$', re.S)
_MORE = re.compile(r'^(.*) and (\d+) more$', re.S)


def explain_fault(message):
    """A fault's message made readable. For the scheduler's NoValidHost
    ("No valid host was found. [Earlier attempts failed (last: X).]
    RamFilter removed 2 of 2 hosts: a has 100 MB free, needs 512; b ...;
    CoreFilter removed ..."): {'summary', 'earlier', 'filters': [{'name',
    'removed', 'of', 'reasons': [...], 'more'}], 'rest'}; any other message
    is the summary alone."""
    message = (message or '').strip()
    out = {'summary': message, 'earlier': None, 'filters': [], 'rest': None}
    if not message.startswith(_NO_HOST):
        return out
    out['summary'] = _NO_HOST
    body = message[len(_NO_HOST):].strip()
    found = list(_FILTER.finditer(body))
    head = body[:found[0].start()] if found else body
    earlier = _EARLIER.search(head)
    if earlier:
        out['earlier'] = earlier.group(1)
        head = head[:earlier.start()]
    for n, m in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(body)
        text = body[m.end():end].strip().rstrip(';').strip()
        more = _MORE.match(text)
        if more:
            text = more.group(1)
        out['filters'].append({'name': m.group(1), 'removed': int(m.group(2)),
                               'of': int(m.group(3)),
                               'reasons': [r.strip() for r in text.split('; ') if r.strip()],
                               'more': int(more.group(2)) if more else 0})
    out['rest'] = head.strip() or None
    return out


def console_lines(arg):
    """The console log's length from the URL: a count (1 .. 10000), 'all'
    (None: the whole log), or the default for anything else."""
    if arg == 'all':
        return None
    try:
        n = int(arg)
    except (TypeError, ValueError):
        return DEFAULT_CONSOLE_LINES
    return n if 1 <= n <= MAX_CONSOLE_LINES else DEFAULT_CONSOLE_LINES


# -- reading ----------------------------------------------------------------------

def get_server(conn, server_id):
    """The server (GET /servers/{id}) with the names the list shows."""
    server = rest.get('compute', '/servers/%s' % server_id, conn=conn)['server']
    return instances.decorate(conn, [server])[0]


def overview_part(conn, server):
    image = server.get('image') or {}
    found, image_err = None, None
    if image.get('id'):
        found, image_err = rest.attempt('image', 'GET', '/images/%s' % image['id'], conn=conn)
    fault = server.get('fault') or None
    return {'image': found, 'image_err': image_err, 'fault': fault,
            'fault_text': explain_fault(fault.get('message')) if fault else None,
            'power_state': POWER_STATES.get(server.get('OS-EXT-STS:power_state'),
                                            server.get('OS-EXT-STS:power_state'))}


def interfaces_part(conn, server):
    body, err = rest.attempt('compute', 'GET', '/servers/%s/os-interface' % server['id'],
                             conn=conn)
    ifaces = (body or {}).get('interfaceAttachments')
    nets, nets_err = rest.attempt('network', 'GET', '/networks', conn=conn)
    fips, fips_err = rest.attempt('network', 'GET', '/floatingips', conn=conn)
    names = {n['id']: n.get('name') or n['id'] for n in (nets or {}).get('networks', ())}
    by_port = {}
    for fip in (fips or {}).get('floatingips', ()):
        if fip.get('port_id'):
            by_port.setdefault(fip['port_id'], []).append(fip)
    for iface in ifaces or ():
        iface['network_name'] = names.get(iface.get('net_id'), iface.get('net_id'))
        iface['floating_ips'] = by_port.get(iface.get('port_id'), [])
    return {'interfaces': ifaces, 'interfaces_err': err,
            'network_err': nets_err or fips_err}


def volumes_part(conn, server):
    body, err = rest.attempt('compute', 'GET', '/servers/%s/os-volume_attachments' % server['id'],
                             conn=conn)
    atts = (body or {}).get('volumeAttachments')
    vols, vols_err = rest.attempt('volumev3', 'GET', '/volumes/detail', conn=conn)
    by_id = {v['id']: v for v in (vols or {}).get('volumes', ())}
    for att in atts or ():
        att['volume'] = by_id.get(att.get('volumeId')) or {}
    busy = any((a['volume'].get('status') in VOLUME_BUSY) for a in atts or ())
    return {'attachments': atts, 'attachments_err': err, 'volumes_err': vols_err,
            'volumes_busy': busy}


def log_part(conn, server):
    body, err = rest.attempt('compute', 'GET', '/servers/%s/os-instance-actions' % server['id'],
                             conn=conn)
    return {'log': (body or {}).get('instanceActions'), 'log_err': err}


def console_output(conn, server_id, lines):
    body = {'os-getConsoleOutput': {'length': lines} if lines else {}}
    resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id, body, conn=conn)
    return resp.json().get('output') or ''


def console_log_part(conn, server):
    lines = console_lines(flask.request.args.get('lines'))
    output, err = cloud.attempt('compute', console_output, conn, server['id'], lines)
    return {'output': output, 'output_err': err, 'lines': lines or 'all',
            'line_choices': CONSOLE_LINES}


def remote_console(conn, server_id, protocol, kind):
    resp = rest.send('compute', 'POST', '/servers/%s/remote-consoles' % server_id,
                     {'remote_console': {'protocol': protocol, 'type': kind}}, conn=conn)
    return resp.json()['remote_console']['url']


def graphical_part(conn, server):
    url, err = cloud.attempt('compute', remote_console, conn, server['id'], 'vnc', 'novnc')
    return {'vnc_url': url, 'vnc_err': err}


PARTS = {'overview': overview_part, 'interfaces': interfaces_part, 'volumes': volumes_part,
         'log': log_part, 'console-log': console_log_part, 'console': lambda c, s: {},
         'graphical': graphical_part}


def _context(server, tab):
    admin = is_admin()
    return {'s': server, 'tab': tab, 'tabs': TABS, 'live_tabs': LIVE_TABS,
            'bar': actions.bar(server, admin), 'actions': actions.ACTIONS, 'admin': admin,
            'may': lambda name: actions.allowed(actions.ACTIONS[name], server, admin)}


# -- the page and its parts -------------------------------------------------------

@signed_in
def detail(server_id, tab='overview'):
    server_id = str(server_id)  # a UUID, as the route takes it
    if tab not in PARTS:
        flask.abort(404, 'An instance has no tab %s.' % tab)
    conn = cloud.conn()
    server = get_server(conn, server_id)
    ctx = _context(server, tab)
    ctx.update(PARTS[tab](conn, server))
    return flask.render_template('instances/detail.html', **ctx)


# The page itself is the list's blueprint's (its rows link
# instances.detail); the parts below are this module's.
instances.bp.add_url_rule('/<uuid:server_id>', 'detail', detail)
instances.bp.add_url_rule('/<uuid:server_id>/<tab>', 'detail', detail)


@bp.route('/<uuid:server_id>/part/<part>')
@signed_in
def part(server_id, part):
    server_id = str(server_id)  # a UUID, as the route takes it
    if part != 'actions' and part not in PARTS:
        flask.abort(404, 'An instance page has no part %s.' % part)
    conn = cloud.conn()
    try:
        server = get_server(conn, server_id)
    except cloud.APIError as err:
        if err.status != 404:
            raise
        # Deleted while the page was open: say so where the part was.
        return flask.render_template('instances/_gone.html', err=err)
    ctx = _context(server, part)
    if part == 'actions':
        return flask.render_template('instances/_actions.html', **ctx)
    ctx.update(PARTS[part](conn, server))
    return flask.render_template('instances/_%s.html' % part, **ctx)


@bp.route('/<uuid:server_id>/part/log/<request_id>')
@signed_in
def events(server_id, request_id):
    """One action's events (asked for when its row is opened)."""
    server_id = str(server_id)  # a UUID, as the route takes it
    action = rest.get('compute', '/servers/%s/os-instance-actions/%s'
                      % (server_id, request_id))['instanceAction']
    return flask.render_template('instances/_events.html', a=action)


@bp.route('/<uuid:server_id>/serial-console', methods=['POST'])
@signed_in
def serial_console(server_id):
    """A fresh serial console URL (the browser connects to the proxy with
    it) and the tail of the console log to show before the live output.
    A refusal is JSON with the API's message, status and request id."""
    server_id = str(server_id)  # a UUID, as the route takes it
    conn = cloud.conn()
    url, err = cloud.attempt('compute', remote_console, conn, server_id, 'serial', 'serial')
    if err:
        return flask.jsonify({'error': {'message': err.message, 'status': err.status,
                                        'request_id': err.request_id,
                                        'service': err.service}}), err.status or 503
    log, _log_err = cloud.attempt('compute', console_output, conn, server_id, 100)
    return flask.jsonify({'url': url, 'log': log or ''})
