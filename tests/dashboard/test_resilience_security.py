"""The dashboard when things go wrong, and its guards, in a real browser
against the real cloud: a service that is down (the image service's process
killed) leaves the pages working and named on them; a revoked token sends
the user to the login page and back to the page they were on; a member of
one project cannot see another project's server; sign-out revokes the
tokens at Keystone (read from the server-side session store: the test may,
a browser cannot); the session cookie's flags; a CSRF token of another
session is refused."""

import re
import time
import urllib.parse
import uuid

import pytest
import requests
from cachelib import file as cachelib_file
from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx
from tests.fixtures import dashboard as dash_fx


def _user(cloud, prefix):
    """A new project with a new member user of it (the CLI, as admin):
    (user name, password, project id)."""
    name = '%s-%s' % (prefix, uuid.uuid4().hex[:6])
    password = 'pw-%s' % uuid.uuid4().hex[:10]
    project = cloud.openstack('project', 'create', name, json_out=True)
    cloud.openstack('user', 'create', '--password', password, '--project', name, name)
    cloud.openstack('role', 'add', '--project', name, '--user', name, 'member')
    return name, password, project['id']


def _sign_in(p, cloud, user, password, next_path):
    p.goto(cloud.dashboard_url + '/login?next=' + urllib.parse.quote(next_path, safe='/'))
    p.fill('input[name=username]', user)
    p.fill('input[name=password]', password)
    p.click('form.login button[type=submit]')


def _session_record(cloud, p):
    """What the server-side session store keeps for page ``p``'s cookie."""
    sid = {c['name']: c['value'] for c in p.context.cookies()}['altostack_session']
    store = cachelib_file.FileSystemCache(cloud.workdir + '/dashboard/sessions')
    return store.get('s:' + sid)


def _token_state(cloud, subject):
    """Keystone's answer to GET /v3/auth/tokens for ``subject`` (admin asks)."""
    admin = cloud.sdk('admin').auth_token
    return requests.get(cloud.auth_url + '/auth/tokens', timeout=30, headers={
        'X-Auth-Token': admin, 'X-Subject-Token': subject}).status_code


def _form_session(cloud, user, password):
    """A requests session signed in through the form (CSRF token and all)."""
    s = requests.Session()
    page = s.get(cloud.dashboard_url + '/login', timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(cloud.dashboard_url + '/login', timeout=60, allow_redirects=False, data={
        'csrf_token': token, 'domain': 'Default', 'username': user, 'password': password})
    assert r.status_code == 302, r.text
    return s, r


def _wait_answers(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise AssertionError('%s did not come back' % url)


def test_image_service_down_pages_work_and_name_it(page, dash_cloud):
    image_url = 'http://127.0.0.1:%d/' % dash_cloud.image_port
    dash_cloud.kill_service('image')
    try:
        # Signed in after the kill: no image names cached for this token.
        p = page(base_url=dash_cloud.dashboard_url)
        dash_fx.sign_in(p, dash_cloud, 'demo', next_path='/instances/')
        started = time.monotonic()
        resp = p.reload()
        assert resp.status == 200 and time.monotonic() - started < 10
        expect(p.locator('h1')).to_contain_text('Instances')
        banner = p.locator('.alert.degraded')
        expect(banner).to_have_count(1)
        expect(banner).to_contain_text('The image (Glance) service does not answer')
        expect(banner).to_contain_text('connection refused')
        # The task panel (live stream, every page) says it too.
        expect(p.locator('#task-panel .task-error')).to_contain_text('image (Glance)')
        browser_fx.save_screenshot(p, 'image-service-down-instances')

        resp = p.goto('/')
        assert resp.status == 200
        for part in ('compute', 'volume', 'network'):
            expect(p.locator('#quota-%s .bar-row' % part).first).to_be_visible()
        expect(p.locator('#task-panel .task-error')).to_contain_text(
            'The image (Glance) service does not answer')
        assert 'Traceback' not in p.content()
        browser_fx.assert_no_console_errors(p)
    finally:
        dash_cloud.start_service('image')
        _wait_answers(image_url)
    # Back: the page stops naming it (a failed look-up is retried within 5 s).
    deadline = time.monotonic() + 30
    while True:
        p.goto('/instances/')
        if p.locator('.alert.degraded').count() == 0:
            break
        assert time.monotonic() < deadline, 'the image service is still named as down'
        time.sleep(1)
    expect(p.locator('#task-panel .task-error')).to_have_count(0, timeout=20000)


def test_revoked_token_goes_to_login_and_back(page, dash_cloud):
    """The user's tokens die when an admin sets a new password: the open
    page's live stream notices and goes to the login page, which brings the
    user back to the same page (filters included) after signing in."""
    user, password, _project = _user(dash_cloud, 'expiring')
    p = page(base_url=dash_cloud.dashboard_url)
    here = '/instances/?status=ACTIVE'
    _sign_in(p, dash_cloud, user, password, here)
    p.wait_for_url(dash_cloud.dashboard_url + here)
    expect(p.locator('body.live')).to_have_count(1)          # the stream is open
    new_password = password + '-new'
    dash_cloud.openstack('user', 'set', '--password', new_password, user)
    # No click, no reload: the stream's next look is refused (401).
    expect(p).to_have_url(re.compile(r'/login\?next=%2Finstances%2F%3Fstatus%3DACTIVE$|'
                                     r'/login\?next=/instances/\?status%3DACTIVE$'),
                          timeout=20000)
    p.fill('input[name=username]', user)
    p.fill('input[name=password]', new_password)
    p.click('form.login button[type=submit]')
    p.wait_for_url(dash_cloud.dashboard_url + here)
    expect(p.locator('select[name=status]')).to_have_value('ACTIVE')


def test_revoked_token_on_a_click_goes_to_login_and_back(page, dash_cloud):
    """The same without the stream: the next page asked for with the dead
    token is the login page, and signing in lands on it."""
    user, password, _project = _user(dash_cloud, 'revoked')
    s, _r = _form_session(dash_cloud, user, password)
    dash_cloud.openstack('user', 'set', '--password', password + '-new', user)
    r = s.get(dash_cloud.dashboard_url + '/instances/?name=web', timeout=30,
              allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers['Location'].endswith('/login?next=/instances/?name%3Dweb'), r.headers


def test_member_cannot_see_another_projects_server(page, dash_cloud, dash_image):
    name = 'private-%s' % uuid.uuid4().hex[:6]
    server = dash_cloud.openstack('server', 'create', '--image', dash_image['id'],
                                  '--flavor', 'm1.tiny', '--nic', 'none', name,
                                  cloud='demo', json_out=True)
    try:
        user, password, _project = _user(dash_cloud, 'outsider')
        s, _r = _form_session(dash_cloud, user, password)
        listing = s.get(dash_cloud.dashboard_url + '/instances/', timeout=30)
        assert listing.status_code == 200
        assert server['id'] not in listing.text and name not in listing.text
        for path in ('/instances/?name=' + name, '/instances/?limit=1000'):
            r = s.get(dash_cloud.dashboard_url + path, timeout=30)
            assert r.status_code == 200 and server['id'] not in r.text
        r = s.get(dash_cloud.dashboard_url + '/instances/' + server['id'], timeout=30)
        assert r.status_code == 404, r.status_code
        assert name not in r.text and 'Traceback' not in r.text
        # The owner does see it (the check above is not vacuous).
        owner, _r = _form_session(dash_cloud, 'demo', dash_fx.USERS['demo'])
        assert server['id'] in owner.get(dash_cloud.dashboard_url + '/instances/?limit=1000',
                                         timeout=30).text
    finally:
        dash_cloud.openstack('server', 'delete', '--wait', server['id'], cloud='demo')


def test_sign_out_revokes_both_tokens_at_keystone(signed_in, dash_cloud):
    p = signed_in('demo')
    record = _session_record(dash_cloud, p)
    scoped, unscoped = record['scoped']['token'], record['unscoped']['token']
    assert _token_state(dash_cloud, scoped) == 200
    assert _token_state(dash_cloud, unscoped) == 200
    p.click('#logout')
    expect(p).to_have_url(re.compile(r'/login$'))
    assert _token_state(dash_cloud, scoped) == 404
    assert _token_state(dash_cloud, unscoped) == 404
    assert not (_session_record(dash_cloud, p) or {}).get('scoped')


def test_session_cookie_flags_and_a_new_id_at_sign_in(dash_cloud):
    s = requests.Session()
    s.get(dash_cloud.dashboard_url + '/login', timeout=30)
    before = s.cookies.get('altostack_session')
    s2, r = _form_session(dash_cloud, 'demo', dash_fx.USERS['demo'])
    cookie = r.headers['Set-Cookie']
    attrs = [a.strip() for a in cookie.split(';')]
    assert 'HttpOnly' in attrs and 'SameSite=Lax' in attrs and 'Path=/' in attrs, cookie
    sid = s2.cookies.get('altostack_session')
    assert sid and sid != before and len(sid) < 64, cookie
    # Nothing of the token in it: it is only a key of the server-side store.
    assert 'gAAAA' not in cookie and '.' not in sid


@pytest.mark.parametrize('path,data', [('/switch-project', {'project_id': 'x'}),
                                       ('/logout', {})])
def test_a_csrf_token_of_another_session_is_refused(dash_cloud, path, data):
    mine, _r = _form_session(dash_cloud, 'demo', dash_fx.USERS['demo'])
    theirs = requests.Session()
    page = theirs.get(dash_cloud.dashboard_url + '/login', timeout=30)
    their_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = mine.post(dash_cloud.dashboard_url + path, data=dict(data, csrf_token=their_token),
                  timeout=30, allow_redirects=False)
    assert r.status_code == 400 and 'CSRF' in r.text
    r = mine.post(dash_cloud.dashboard_url + path, data=data, timeout=30,
                  headers={'X-CSRFToken': their_token, 'HX-Request': 'true'},
                  allow_redirects=False)
    assert r.status_code == 400 and 'CSRF' in r.text
    # Still signed in: the refused requests changed nothing.
    assert mine.get(dash_cloud.dashboard_url + '/', timeout=30,
                    allow_redirects=False).status_code == 200
