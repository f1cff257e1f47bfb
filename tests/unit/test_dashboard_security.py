"""The dashboard's request guards, with Flask's test client: every route
that changes something (POST, PUT, PATCH, DELETE; read from the app's URL
map, so routes added later are covered too) refuses a request without its
CSRF token, or with a wrong one; the session cookie's flags; the live
stream stops when its browser leaves."""

import re
import socket
import threading
import time
import uuid

import pytest
import waitress

from common.conf import CONF
from dashboard import app as app_mod
from dashboard import cmd

UNSAFE = {'POST', 'PUT', 'PATCH', 'DELETE'}


@pytest.fixture
def make_app(tmp_path):
    made = []

    def make(**overrides):
        overrides.setdefault('state_path', str(tmp_path))
        for name, value in overrides.items():
            CONF.set_override(name, value, 'dashboard')
        try:
            app = app_mod.create_app()
        finally:
            for name in overrides:
                CONF.clear_override(name, 'dashboard')
        made.append(app)
        return app
    return make


def _signed_in(client):
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 'tok', 'body': {}}
        sess['unscoped'] = {'token': 'tok0', 'body': {}}
        sess['me'] = {'user_name': 'demo', 'domain': 'Default', 'project_id': 'p1',
                      'project_name': 'demo', 'roles': ['member', 'admin']}
        sess['projects'] = [{'id': 'p1', 'name': 'demo'}]


def _sample(converter):
    """A value each kind of URL argument accepts."""
    name = type(converter).__name__
    if name == 'IntegerConverter':
        return 1
    if name == 'UUIDConverter':
        return uuid.uuid4()
    if name == 'FloatConverter':
        return 1.0
    return 'x1'


def unsafe_routes(app):
    """[(method, url)] of every route that takes an unsafe method."""
    adapter = app.url_map.bind('localhost')
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(UNSAFE & (rule.methods or set())):
            values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
            out.append((method, adapter.build(rule.endpoint, values, method=method)))
    return out


def test_there_are_unsafe_routes_to_check(make_app):
    routes = unsafe_routes(make_app())
    assert ('POST', '/logout') in routes and ('POST', '/login') in routes
    assert ('POST', '/switch-project') in routes


@pytest.mark.parametrize('signed_in', [False, True], ids=['anonymous', 'signed-in'])
def test_every_unsafe_route_needs_the_csrf_token(make_app, signed_in):
    app = make_app()
    client = app.test_client()
    if signed_in:
        _signed_in(client)
    failures = []
    for method, url in unsafe_routes(app):
        for headers in ({}, {'HX-Request': 'true'}, {'X-CSRFToken': 'not-the-token'}):
            r = client.open(url, method=method, data={'x': '1'}, headers=headers)
            if r.status_code != 400 or 'CSRF' not in r.get_data(as_text=True):
                failures.append('%s %s %s -> %s' % (method, url, headers, r.status_code))
    assert not failures, '\n'.join(failures)


def test_the_token_of_the_page_is_accepted(make_app):
    """The check above is not vacuous: with the page's token, the same
    request passes the guard (sign-out with no token to revoke)."""
    app = make_app()
    client = app.test_client()

    def token():        # sign-out clears the session, and its CSRF secret
        page = client.get('/login').get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    r = client.post('/logout', data={'csrf_token': token()})
    assert r.status_code == 302 and r.headers['Location'] == '/login'
    r = client.post('/logout', headers={'X-CSRFToken': token()})     # as htmx sends it
    assert r.status_code == 302


def _session_cookie(response):
    for header in response.headers.getlist('Set-Cookie'):
        if header.startswith('altostack_session='):
            return header
    raise AssertionError('no session cookie in %s' % response.headers)


def test_session_cookie_flags(make_app):
    r = make_app().test_client().get('/login')
    cookie = _session_cookie(r)
    attrs = [a.strip() for a in cookie.split(';')]
    value = attrs[0].split('=', 1)[1]
    assert 'HttpOnly' in attrs and 'SameSite=Lax' in attrs and 'Path=/' in attrs, cookie
    assert 'Secure' not in attrs, cookie            # plain HTTP unless told
    assert any(a.startswith('Expires=') for a in attrs), cookie
    assert len(value) < 64 and '.' not in value, cookie   # an id, not signed data


def test_session_cookie_is_secure_behind_tls(make_app):
    cookie = _session_cookie(make_app(secure_cookies=True).test_client().get('/login'))
    assert 'Secure' in [a.strip() for a in cookie.split(';')], cookie


def test_security_headers(make_app):
    r = make_app().test_client().get('/login')
    assert r.headers['X-Frame-Options'] == 'SAMEORIGIN'
    assert r.headers['X-Content-Type-Options'] == 'nosniff'
    assert r.headers['Cache-Control'] == 'no-store'


def test_a_stream_stops_when_its_browser_leaves():
    """cmd.SERVER_OPTIONS lets a long response (the live-update stream) see
    that its client left, at once: the stream ends instead of holding a
    thread and polling the APIs for nobody (quick clicking through pages
    used up the dashboard's threads before)."""
    seen = {}
    ended = threading.Event()

    def app(environ, start_response):
        gone = environ['waitress.client_disconnected']
        start_response('200 OK', [('Content-Type', 'text/event-stream')])

        def body():
            yield b'retry: 2000\n\n'
            while not gone():
                time.sleep(0.05)
            seen['at'] = time.monotonic()
            ended.set()
        return body()

    server = waitress.create_server(app, host='127.0.0.1', port=0, threads=2,
                                    **cmd.SERVER_OPTIONS)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        sock = socket.create_connection(('127.0.0.1', server.effective_port), timeout=5)
        sock.sendall(b'GET /events HTTP/1.1\r\nHost: x\r\n\r\n')
        assert b'retry: 2000' in sock.recv(4096) or b'retry: 2000' in sock.recv(4096)
        left = time.monotonic()
        sock.close()
        assert ended.wait(5), 'the stream did not notice its client left'
        assert seen['at'] - left < 2
    finally:
        server.close()
