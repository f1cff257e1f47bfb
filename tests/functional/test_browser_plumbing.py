"""The browser plumbing (tests/fixtures/browser.py) on a tiny site served
from a thread here, without the dashboard or a cloud: Debian's Chromium
starts, clicks, fills, waits, takes screenshots, reads the page's timing,
keeps each context's cookies apart, reports console errors, and saves the
pages of a failed test. Seconds in all."""

import html
import http.cookies
import http.server
import os
import pathlib
import subprocess
import sys
import threading
import urllib.parse

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import assert_no_console_errors
from tests.fixtures.browser import console_errors
from tests.fixtures.browser import save_screenshot

ROOT = pathlib.Path(__file__).resolve().parents[2]

HOME = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Plumbing</title>
<link rel="icon" href="data:,"></head>
<body>
<h1 id="greeting">Nobody yet</h1>
<form action="/hello" method="get">
  <label>Name <input id="name" name="name"></label>
  <button type="button" id="greet">Greet</button>
  <button type="submit" id="send">Send</button>
</form>
<script>
document.getElementById('greet').addEventListener('click', function () {
  var name = document.getElementById('name').value;
  // Later than the click returns: the test has to wait for it.
  setTimeout(function () {
    document.getElementById('greeting').textContent = 'Hello, ' + name + '!';
  }, 300);
});
</script>
</body></html>
"""

BROKEN = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Broken</title>
<script src="/missing.js"></script></head>
<body><p>Broken</p>
<script>console.error('a logged error'); undefinedFunction();</script>
</body></html>
"""


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        headers = {}
        if url.path == '/':
            body = HOME
        elif url.path == '/broken':
            body = BROKEN
        elif url.path == '/hello':
            name = query.get('name', ['?'])[0]
            body = ('<!doctype html><title>Sent</title><p id="sent">Received %s</p>'
                    % html.escape(name, quote=False)).encode()
        elif url.path == '/login':
            headers['Set-Cookie'] = 'session=%s; Path=/' % query['user'][0]
            body = b'<!doctype html><title>In</title><p>logged in</p>'
        elif url.path == '/whoami':
            cookie = http.cookies.SimpleCookie(self.headers.get('Cookie', ''))
            who = cookie['session'].value if 'session' in cookie else 'anonymous'
            body = ('<!doctype html><title>Who</title><p id="who">%s</p>' % who).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Type', 'text/html; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope='module')
def site():
    """The tiny site's base URL."""
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Site)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_click_fill_wait_screenshot_and_timing(page, site):
    p = page(site)
    p.goto('/')
    p.fill('#name', 'Ada')
    p.click('#greet')
    expect(p.locator('#greeting')).to_have_text('Hello, Ada!')

    shot = save_screenshot(p, 'browser-plumbing home')
    assert shot.name == 'browser-plumbing_home.png'
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert shot.stat().st_size > 2000   # rendered text, not a blank canvas

    dom_ready = p.evaluate(
        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    assert 0 < dom_ready < 15000, dom_ready
    assert_no_console_errors(p)


def test_form_submit_navigates(page, site):
    p = page(site)
    p.goto('/')
    p.fill('#name', '<Grace>')
    p.click('#send')
    p.wait_for_url('**/hello?name=*')
    expect(p.locator('#sent')).to_have_text('Received <Grace>')
    assert p.title() == 'Sent'


def test_each_page_has_its_own_cookies(page, site):
    alice, nobody = page(site), page(site)
    alice.goto('/login?user=alice')
    alice.goto('/whoami')
    nobody.goto('/whoami')
    expect(alice.locator('#who')).to_have_text('alice')
    expect(nobody.locator('#who')).to_have_text('anonymous')


def test_console_errors_are_collected(page, site):
    p = page(site)
    p.goto('/broken')
    expect(p.locator('p')).to_have_text('Broken')
    errors = console_errors(p)
    assert any('404' in e and '/missing.js' in e for e in errors), errors
    assert any(e.startswith('a logged error') for e in errors), errors
    assert any(e.startswith('uncaught') and 'undefinedFunction' in e for e in errors), errors
    with pytest.raises(AssertionError, match='browser console errors on .*/broken'):
        assert_no_console_errors(p)


FAILING = """
def test_fails(page):
    p = page()
    p.set_content('<h1>Broken view</h1><script>console.error("bad thing")</script>')
    assert False, 'on purpose'
"""


def _inner_pytest(tmp_path, **env):
    """Run FAILING in its own pytest with just the browser plugin."""
    (tmp_path / 'test_inner.py').write_text(FAILING)
    env = dict(os.environ, PYTHONPATH=str(ROOT), ALTOSTACK_TEST_STRICT_SKIPS='', **env)
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
         '-p', 'tests.fixtures.browser', '--rootdir', str(tmp_path), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_failed_test_leaves_its_pages(tmp_path):
    artifacts = tmp_path / 'artifacts'
    run = _inner_pytest(tmp_path, ALTOSTACK_TEST_ARTIFACTS=str(artifacts))
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'browser pages at the failure' in run.stdout, run.stdout
    saved = artifacts / 'failures' / 'test_inner.py_test_fails'
    assert (saved / 'page1.png').read_bytes()[:4] == b'\x89PNG'
    assert 'Broken view' in (saved / 'page1.html').read_text()
    assert 'bad thing' in (saved / 'page1.console.txt').read_text()


def test_a_missing_chromium_fails_clearly(tmp_path):
    run = _inner_pytest(tmp_path, ALTOSTACK_TEST_CHROMIUM=str(tmp_path / 'no-chromium'))
    assert run.returncode == 1, run.stdout + run.stderr
    assert '1 error' in run.stdout and 'skipped' not in run.stdout, run.stdout
    assert 'no Chromium at %s' % (tmp_path / 'no-chromium') in run.stdout, run.stdout
    assert 'altostack_install_debs' in run.stdout, run.stdout
