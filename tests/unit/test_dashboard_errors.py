"""How the dashboard turns failures into pages (dashboard/cloud.py's
translation, dashboard/errors.py's rendering), with Flask's test client.

The errors are the real client libraries' exceptions: openstacksdk's and
keystoneauth1's own parsers read responses in each service's error shape
(Nova and Cinder, Keystone, Neutron, Glance's HTML page, the API SIG's
list), and a real keystoneauth1 session meets a closed port (connection
refused) and a socket that never answers (timeout). No page ever shows a
traceback; a 401 sends the user to the login page and back.
"""

import ast
import http.server
import json
import pathlib
import socket
import threading

import flask
import openstack.exceptions
import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from markupsafe import escape

import dashboard
from common.conf import CONF
from dashboard import app as app_mod
from dashboard import cloud
from dashboard import rest
from dashboard.views import auth

NOVA_404 = ({'itemNotFound': {'code': 404, 'message': 'Instance 9a1 could not be found.'}},
            'application/json', 'Instance 9a1 could not be found.')
NOVA_409 = ({'conflictingRequest': {'code': 409, 'message': "Cannot 'stop' instance 9a1 while "
                                    "it is in vm_state stopped"}},
            'application/json', "Cannot 'stop' instance 9a1 while it is in vm_state stopped")
CINDER_400 = ({'badRequest': {'code': 400, 'message': 'Invalid input: size must be > 0.'}},
              'application/json', 'Invalid input: size must be > 0.')
KEYSTONE_403 = ({'error': {'code': 403, 'title': 'Forbidden',
                           'message': 'You are not authorized to perform the requested action: '
                                      'identity:list_users.'}},
                'application/json', 'identity:list_users')
NEUTRON_404 = ({'NeutronError': {'type': 'PortNotFound', 'detail': '',
                                 'message': 'Port 77b could not be found.'}},
               'application/json', 'Port 77b could not be found.')
SIG_409 = ({'errors': [{'status': 409, 'title': 'Conflict', 'code': 'placement.concurrent',
                        'detail': 'There was a conflict when trying to complete your request.'}]},
           'application/json', 'There was a conflict when trying to complete your request.')
GLANCE_404 = ('<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n'
              '  <h1>404 Not Found</h1>\n  No image found with ID 3c5 &amp; friends<br /><br />\n'
              ' </body>\n</html>\n', 'text/html; charset=UTF-8',
              'No image found with ID 3c5 & friends')


def _response(status, body, content_type, request_id='req-0f3b2a'):
    resp = requests.Response()
    resp.status_code = status
    resp.reason = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
                   404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error'}[status]
    resp._content = (json.dumps(body) if isinstance(body, dict) else body).encode()
    resp.headers['Content-Type'] = content_type
    resp.headers['X-OpenStack-Request-ID'] = request_id
    resp.url = 'http://api.example/v2.1/thing'
    resp.request = requests.Request('GET', resp.url).prepare()
    return resp


def sdk_error(status, shape):
    """What openstacksdk raises for this answer."""
    try:
        openstack.exceptions.raise_from_response(_response(status, shape[0], shape[1]))
    except openstack.exceptions.HttpException as exc:
        return exc
    raise AssertionError('no exception')


def ks_error(status, shape):
    """What keystoneauth1 raises for this answer."""
    resp = _response(status, shape[0], shape[1])
    return ks_exc.from_response(resp, 'GET', resp.url)


def _closed_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def refused():
    """A real ConnectFailure: a port nobody listens on."""
    try:
        ks_session.Session(timeout=5).get('http://127.0.0.1:%d/v2/images' % _closed_port())
    except ks_exc.ConnectionError as exc:
        return exc
    raise AssertionError('the closed port answered')


def timed_out():
    """A real timeout: a listening socket that never answers."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    try:
        ks_session.Session(timeout=0.3).get('http://127.0.0.1:%d/' % srv.getsockname()[1])
    except ks_exc.ConnectionError as exc:
        return exc
    finally:
        srv.close()
    raise AssertionError('the silent socket answered')


# (case id, exception factory, service, status on the page, text the page shows)
CASES = [
    ('nova-404', lambda: sdk_error(404, NOVA_404), 'compute', 404, NOVA_404[2]),
    ('nova-409', lambda: sdk_error(409, NOVA_409), 'compute', 409, NOVA_409[2]),
    ('nova-raw-409', lambda: ks_error(409, NOVA_409), 'compute', 409, NOVA_409[2]),
    ('cinder-400', lambda: sdk_error(400, CINDER_400), 'volumev3', 400, CINDER_400[2]),
    ('keystone-403', lambda: ks_error(403, KEYSTONE_403), 'identity', 403, KEYSTONE_403[2]),
    ('neutron-404', lambda: sdk_error(404, NEUTRON_404), 'network', 404, NEUTRON_404[2]),
    ('neutron-raw-404', lambda: ks_error(404, NEUTRON_404), 'network', 404, NEUTRON_404[2]),
    ('glance-404', lambda: sdk_error(404, GLANCE_404), 'image', 404, GLANCE_404[2]),
    ('glance-raw-404', lambda: ks_error(404, GLANCE_404), 'image', 404, GLANCE_404[2]),
    ('placement-409', lambda: ks_error(409, SIG_409), 'placement', 409, SIG_409[2]),
    ('refused', refused, 'image', 503, 'The image (Glance) service does not answer'),
    ('timeout', timed_out, 'network', 503, 'The network (Neutron) service does not answer'),
]
_FACTORIES = {case[0]: case[1] for case in CASES}


@pytest.fixture
def dash(tmp_path):
    """The dashboard app with a test blueprint whose views fail the ways
    the APIs do; a client signed in (a fake token in the session)."""
    CONF.set_override('state_path', str(tmp_path), 'dashboard')
    try:
        app = app_mod.create_app()
    finally:
        CONF.clear_override('state_path', 'dashboard')
    bp = flask.Blueprint('boom', __name__, url_prefix='/boom')

    @bp.route('/api/<case>/<service>')
    def api(case, service):
        with cloud.translate(service, signed_in=True):
            raise _FACTORIES[case]()

    @bp.route('/expired')
    def expired():
        with cloud.translate('compute', signed_in=True):
            raise sdk_error(401, ({'error': {'code': 401, 'message': 'The request you have '
                                             'made requires authentication.'}},
                                  'application/json', ''))

    @bp.route('/bug')
    def bug():
        raise RuntimeError('internal detail: /srv/secret.conf line 3')

    @bp.route('/stack')
    def stack():
        with cloud.translate('compute', signed_in=True):
            raise sdk_error(500, ('Traceback (most recent call last):\n  File "x.py", line 1\n'
                                  'KeyError: 1\n', 'text/plain', ''))

    @bp.route('/part')
    def part():
        err = cloud.error_of(refused(), 'image')
        cloud.degraded(err, 'Image names show as ids until it answers.')
        cloud.degraded(err, 'the same service: named once')
        return flask.render_template_string(
            "{% extends 'base.html' %}{% block content %}<p id=rest>the rest</p>{% endblock %}")

    @bp.route('/discovery')
    def discovery():
        # What openstacksdk raises when its version discovery finds nothing
        # (it swallows the reason): the dashboard finds the reason itself.
        with cloud.translate('image', signed_in=True):
            raise openstack.exceptions.NotSupported(
                'The image service for 127.0.0.1:None exists but does not have any '
                'supported versions.')

    app.register_blueprint(bp)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 'tok', 'body': {'token': {
            'methods': ['password'], 'expires_at': '2099-01-01T00:00:00.000000Z',
            'user': {'id': 'u1', 'name': 'demo', 'domain': {'id': 'default',
                                                            'name': 'Default'}},
            'project': {'id': 'p1', 'name': 'demo', 'domain': {'id': 'default',
                                                               'name': 'Default'}},
            'catalog': [{'type': 'image', 'name': 'glance', 'id': 's1', 'endpoints': [
                {'id': 'e1', 'interface': 'public', 'region': 'RegionOne',
                 'region_id': 'RegionOne', 'url': 'http://127.0.0.1:%d' % _closed_port()}]}]}}}
        sess['me'] = {'user_name': 'demo', 'domain': 'Default', 'project_id': 'p1',
                      'project_name': 'demo', 'roles': ['member']}
    return app, client


def _no_trace(text):
    assert 'Traceback' not in text and 'File "' not in text, text


@pytest.mark.parametrize('case,factory,service,status,shown', CASES,
                         ids=[c[0] for c in CASES])
def test_error_of_each_service_shape(case, factory, service, status, shown):
    err = cloud.error_of(factory(), service)
    assert isinstance(err, cloud.APIError)
    assert shown in err.message
    assert '<' not in err.message, err.message        # no HTML left in it
    assert err.service == cloud.SERVICE_NAMES.get(service, service)
    if status == 503:
        assert err.down and err.status is None
    else:
        assert err.status == status and not err.down
        assert err.request_id == 'req-0f3b2a'


@pytest.mark.parametrize('case,factory,service,status,shown', CASES,
                         ids=[c[0] for c in CASES])
def test_api_errors_render_as_pages(dash, case, factory, service, status, shown):
    _app, client = dash
    r = client.get('/boom/api/%s/%s' % (case, service))
    text = r.get_data(as_text=True)
    assert r.status_code == status
    assert str(escape(shown)) in text
    name = cloud.SERVICE_NAMES.get(service, service)
    assert str(escape(name)) in text
    if status != 503:
        assert 'req-0f3b2a' in text and str(status) in text
        assert 'refused this' in text
    else:
        assert 'unavailable' in text
    _no_trace(text)


def test_a_silent_discovery_failure_says_why(dash):
    """openstacksdk reports a refused connection as a service with "no
    supported versions"; the page says the service does not answer, and why."""
    _app, client = dash
    r = client.get('/boom/discovery')
    text = r.get_data(as_text=True)
    assert r.status_code == 503
    assert 'The image (Glance) service does not answer (connection refused at ' \
        'http://127.0.0.1:' in text, text
    assert 'supported versions' not in text


def test_htmx_errors_go_to_the_alert_area(dash):
    _app, client = dash
    r = client.get('/boom/api/nova-409/compute', headers={'HX-Request': 'true'})
    assert r.status_code == 409
    assert r.headers['HX-Retarget'] == '#alerts'
    text = r.get_data(as_text=True)
    assert 'vm_state stopped' in text and 'req-0f3b2a' in text
    assert '<html' not in text                  # a fragment, not a page


def test_json_clients_get_json(dash):
    _app, client = dash
    r = client.get('/boom/api/refused/image', headers={'Accept': 'application/json'})
    assert r.status_code == 503
    body = r.get_json()
    assert body['error']['code'] == 503
    assert 'does not answer' in body['error']['message']


def test_unexpected_failure_is_a_500_page_without_its_detail(dash, caplog):
    _app, client = dash
    r = client.get('/boom/bug')
    text = r.get_data(as_text=True)
    assert r.status_code == 500
    assert 'reference' in text
    assert 'secret.conf' not in text and 'RuntimeError' not in text
    _no_trace(text)


def test_an_api_stack_trace_is_left_out(dash):
    _app, client = dash
    r = client.get('/boom/stack')
    text = r.get_data(as_text=True)
    assert r.status_code == 500
    assert 'KeyError' not in text
    assert 'stack trace, left out' in text
    _no_trace(text)


def test_unknown_page_is_a_404_page(dash):
    _app, client = dash
    r = client.get('/no/such/page')
    assert r.status_code == 404
    _no_trace(r.get_data(as_text=True))


def test_expired_token_goes_to_login_and_back(dash):
    _app, client = dash
    r = client.get('/boom/expired?x=1')
    assert r.status_code == 302
    assert r.headers['Location'] == '/login?next=/boom/expired?x%3D1'
    with client.session_transaction() as sess:
        # The dead tokens are forgotten, and who was signed in with them.
        assert not {'scoped', 'unscoped', 'me', 'projects'} & set(sess)
    page = client.get('/login?next=/boom/expired').get_data(as_text=True)
    assert 'form class="login' in page and 'sse-connect' not in page


def test_login_page_is_the_form_even_over_a_dead_session(dash):
    """The live stream sends a page whose token died to the login page
    without clearing the session (its headers went out long ago): the login
    page is still the bare form, with no live stream of its own to loop on."""
    _app, client = dash
    page = client.get('/login?next=/instances/').get_data(as_text=True)
    assert 'form class="login' in page
    assert 'sse-connect' not in page and 'id="logout"' not in page


def test_expired_token_on_an_htmx_request_redirects_the_page(dash):
    _app, client = dash
    r = client.get('/boom/expired', headers={
        'HX-Request': 'true', 'HX-Current-URL': 'http://dash.example/instances/?status=ERROR'})
    assert r.status_code == 401
    assert r.headers['HX-Redirect'] == '/login?next=/instances/?status%3DERROR'


def test_not_signed_in_pages_go_to_login(dash):
    _app, client = dash
    with client.session_transaction() as sess:
        sess.clear()
    r = client.get('/instances/?status=ACTIVE')
    assert r.status_code == 302
    assert r.headers['Location'] == '/login?next=/instances/?status%3DACTIVE'
    r = client.get('/events')
    assert r.status_code == 401 and r.headers['HX-Redirect'].startswith('/login')


@pytest.mark.parametrize('target,landing', [
    ('/instances/?status=ACTIVE', '/instances/?status=ACTIVE'),
    ('//evil.example/x', '/'), ('https://evil.example/', '/'), ('/login?next=/x', '/'),
    ('', '/'), (None, '/')])
def test_back_after_sign_in_only_to_this_site(dash, target, landing):
    app, _client = dash
    with app.test_request_context('/login'):
        assert auth._safe_next(target) == landing


def test_a_part_whose_service_is_down_names_it_once(dash):
    _app, client = dash
    r = client.get('/boom/part')
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<p id=rest>the rest</p>' in text
    assert text.count('The image (Glance) service does not answer') == 1
    assert 'Image names show as ids' in text
    _no_trace(text)


def test_refused_and_timeout_are_the_real_exceptions():
    assert isinstance(refused(), ks_exc.ConnectFailure)
    assert isinstance(timed_out(), ks_exc.ConnectTimeout)


class _FakeNova(http.server.BaseHTTPRequestHandler):
    """Answers like Nova: its version document, a 409 to a server action,
    a 401 to a dead token."""

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-OpenStack-Request-ID', 'req-fake-nova')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip('/') in ('', '/v2.1'):
            href = 'http://%s:%d/v2.1/' % self.server.server_address
            return self._send(200, {'version': {
                'id': 'v2.1', 'status': 'CURRENT', 'version': '2.61', 'min_version': '2.1',
                'links': [{'rel': 'self', 'href': href}]}})
        return self._send(401, {'error': {'code': 401, 'title': 'Unauthorized',
                                          'message': 'The request you have made requires '
                                                     'authentication.'}})

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        return self._send(409, NOVA_409[0])

    def log_message(self, *args):
        pass


@pytest.fixture
def nova_conn():
    """A real openstacksdk Connection of the dashboard (cloud.conn's) whose
    catalog names a fake Nova."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _FakeNova)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = 'http://127.0.0.1:%d/v2.1' % server.server_address[1]
    body = {'token': {
        'methods': ['password'], 'expires_at': '2099-01-01T00:00:00.000000Z',
        'user': {'id': 'u1', 'name': 'demo', 'domain': {'id': 'default', 'name': 'Default'}},
        'project': {'id': 'p1', 'name': 'demo', 'domain': {'id': 'default', 'name': 'Default'}},
        'catalog': [{'type': 'compute', 'name': 'nova', 'id': 's1', 'endpoints': [
            {'id': 'e1', 'interface': 'public', 'region': 'RegionOne',
             'region_id': 'RegionOne', 'url': url}]}]}}
    conn = cloud._connection_for({'token': 'tok-%s' % url, 'body': body})
    yield conn
    server.shutdown()


def test_raw_calls_raise_what_the_api_answered(nova_conn):
    # openstacksdk alone: the 409 comes back as if it were an answer.
    assert nova_conn.compute.post('/servers/9a1/action', json={'os-stop': None}).status_code \
        == 409
    with pytest.raises(cloud.APIError) as caught:
        rest.send('compute', 'POST', '/servers/9a1/action', body={'os-stop': None},
                  conn=nova_conn)
    err = caught.value
    assert err.status == 409 and err.request_id == 'req-fake-nova'
    assert err.message == NOVA_409[2] and err.service == 'compute (Nova)'
    with pytest.raises(cloud.NotSignedIn):
        rest.get('compute', '/servers/detail', conn=nova_conn, limit=10)


VERBS = {'get', 'post', 'put', 'patch', 'delete', 'head', 'request'}
PROXY_NAMES = set(rest.PROXIES.values())


def test_a_raw_call_through_cloud_call_raises_too(nova_conn):
    with pytest.raises(cloud.APIError) as caught:
        cloud.call('compute', nova_conn.compute.post, '/servers/9a1/action',
                   json={'os-stop': None})
    assert caught.value.status == 409 and caught.value.message == NOVA_409[2]


def _is_raw(node):
    """``<x>.<service proxy>.<verb>`` or ``getattr(<x>, <proxy>).<verb>``."""
    if not (isinstance(node, ast.Attribute) and node.attr in VERBS):
        return False
    target = node.value
    return (isinstance(target, ast.Attribute) and target.attr in PROXY_NAMES) or (
        isinstance(target, ast.Call) and getattr(target.func, 'id', None) == 'getattr')


def test_every_raw_call_in_the_dashboard_raises_on_http_errors():
    """A guard for code added later: a raw call ``conn.<service>.<verb>(...)``
    passes raise_exc=True, or goes through dashboard/rest.py (whose send()
    checks every answer), or is handed to cloud.call / cloud.attempt (which
    check the response)."""
    root = pathlib.Path(dashboard.__file__).parent
    bad = []
    for path in sorted(root.rglob('*.py')):
        if path == root / 'rest.py':
            continue
        tree = ast.parse(path.read_text(), str(path))
        fine = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            raising = any(k.arg == 'raise_exc' and getattr(k.value, 'value', None) is True
                          for k in node.keywords)
            handed = getattr(node.func, 'attr', None) in ('call', 'attempt')
            if raising:
                fine.add(id(node.func))
            if handed:
                fine.update(id(a) for a in node.args)
        for node in ast.walk(tree):
            if _is_raw(node) and id(node) not in fine:
                bad.append('%s:%d' % (path.relative_to(root.parent), node.lineno))
    assert not bad, 'raw API calls that would take an HTTP error for an answer: %s' % bad
