#!/usr/bin/env python3
"""Dashboard benchmark: the web dashboard with N servers (100) in the demo
project, on an all-in-one cloud whose compute agent runs the fake driver
(guests kept in memory: the dashboard's cost, not QEMU's, is measured; the
API, scheduler, conductor, RabbitMQ and database are the real ones).

* server-rendered instance list: GET /instances/ with a signed-in session
  (form login with its CSRF token, then the session cookie), M requests,
  p50/p95, in turns with the compute API's own GET /servers/detail for the
  same rows (what the dashboard adds on top);
* browser navigation: headless Chromium (/usr/bin/chromium, Playwright),
  DOMContentLoaded from the page's navigation timing entry, a second on
  each page (its live-update stream starts with a full server list);
* live status: a page open on the list; stop (then start) a server
  through the API, poll the API every 20 ms until it shows SHUTOFF
  (ACTIVE), and take the moment the page's status badge shows it (a
  MutationObserver in the page notes the wall clock of each badge swapped
  in); the figure is page minus API;
* the dashboard process's RSS (and peak) idle, and after all of it.

    python benchmarks/dashboard_bench.py [--servers 100] [--requests 50] [--navigations 20]
                                         [--changes 10] [--networks auto|none]
"""

import argparse
import concurrent.futures
import os
import random
import re
import statistics
import time

import requests
from benchlib import Client
from benchlib import LocalCloud
from benchlib import wait

CHROMIUM = os.environ.get('ALTOSTACK_TEST_CHROMIUM', '/usr/bin/chromium')
# The fake hypervisor has 8 vCPUs, 16 GiB and 100 GB: room for 100 m1.tiny.
EXTRA_CONF = """[compute]
compute_driver = fake
[scheduler]
cpu_allocation_ratio = 32.0
ram_allocation_ratio = 8.0
disk_allocation_ratio = 4.0
"""
OBSERVER = """() => {
  window.__seen = {};
  new MutationObserver((muts) => {
    const now = Date.now();
    for (const m of muts) {
      for (const n of m.addedNodes) {
        if (n.nodeType !== 1) continue;
        const badges = n.matches('.status-badge') ? [n] : n.querySelectorAll('.status-badge');
        for (const b of badges) {
          const key = b.id + ':' + b.dataset.status;
          if (!(key in window.__seen)) window.__seen[key] = now;
        }
      }
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def line(label, xs, unit='ms', target=None):
    text = '%-52s p50 %7.1f  p95 %7.1f  max %7.1f %s' % (
        label, statistics.median(xs), pct(xs, 95), max(xs), unit)
    if target is not None:
        text += '   (target p95 <= %s %s: %s)' % (target, unit,
                                                  'met' if pct(xs, 95) <= target else 'MISSED')
    print(text, flush=True)


def proc_status(pid):
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for row in f:
            key, _, value = row.partition(':')
            if key in ('VmRSS', 'VmHWM', 'Threads'):
                out[key] = int(value.split()[0])
    return out


def print_rss(label, pid):
    st = proc_status(pid)
    print('dashboard RSS %-28s %6.1f MiB (peak %6.1f MiB, %d threads)'
          % (label, st['VmRSS'] / 1024.0, st['VmHWM'] / 1024.0, st['Threads']), flush=True)


def boot_many(client, image, n, networks):
    """n servers in the client's project, all ACTIVE; their ids."""
    def one(i):
        body = {'name': 'bench-%03d' % i, 'imageRef': image, 'flavorRef': '1',
                'networks': networks}
        return client.call('POST', '/compute/v2.1/servers',
                           json={'server': body})['server']['id']
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(one, range(n)))

    def all_active():
        servers = client.call('GET', '/compute/v2.1/servers/detail?limit=1000')['servers']
        bad = [s for s in servers if s['status'] == 'ERROR']
        if bad:
            raise RuntimeError('server %s went to ERROR: %s' % (bad[0]['id'],
                                                                bad[0].get('fault')))
        return sum(s['status'] == 'ACTIVE' for s in servers) >= n
    wait(all_active, timeout=600, step=0.5)
    return ids


def dashboard_session(url, user, password):
    """A requests.Session signed in through the login form (CSRF token and
    all), as a browser would."""
    s = requests.Session()
    form = s.get(url + '/login', timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    r = s.post(url + '/login?next=/instances/', data={
        'csrf_token': token, 'domain': 'Default', 'username': user, 'password': password},
        timeout=60, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError('sign-in failed: %s %s' % (r.status_code, r.text[:500]))
    return s


def timed_gets(session, url, n, check=None):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = session.get(url, timeout=60)
        times.append((time.perf_counter() - t0) * 1000.0)
        if r.status_code != 200:
            raise RuntimeError('GET %s: %s %s' % (url, r.status_code, r.text[:500]))
        if check:
            check(r)
    return times


def server_side(cloud, demo, args):
    url = cloud.dashboard_url
    s = dashboard_session(url, 'demo', demo.password)
    n = args.servers

    def rows(expected):
        def check(r):
            got = r.text.count('<tr id="server-')
            if got != expected:
                raise RuntimeError('%d rows, not %d' % (got, expected))
        return check

    for path in ('/instances/', '/instances/?limit=%d' % n, '/'):
        timed_gets(s, url + path, 3)          # warm: connections, name caches
    api = requests.Session()
    api.headers.update({'X-Auth-Token': demo.token, 'OpenStack-API-Version': 'compute 2.61'})
    api_url = 'http://127.0.0.1:%d/compute/v2.1/servers/detail?limit=%d' % (cloud.api_port, n)
    timed_gets(api, api_url, 3)
    print('\n(a) server-rendered pages, %d requests each, one client, keep-alive:'
          % args.requests, flush=True)
    # In turns, so a burst of load from elsewhere on the machine falls on
    # both alike.
    page, alone = [], []
    for _ in range(args.requests):
        page += timed_gets(s, url + '/instances/?limit=%d' % n, 1, rows(n))
        alone += timed_gets(api, api_url, 1)
    line('GET /instances/?limit=%d (all %d rows)' % (n, n), page, target=300)
    line('  the compute API alone: GET /servers/detail?limit=%d' % n, alone)
    line('GET /instances/ (first page, %d rows)' % min(n, 50),
         timed_gets(s, url + '/instances/', args.requests, rows(min(n, 50))), target=300)
    line('GET / (overview: quota bars of 3 services)',
         timed_gets(s, url + '/', args.requests))


def status_delays(p, client, ids, args):
    """[ms] from the API showing a stop's SHUTOFF (a start's ACTIVE) to the
    open page showing it, per status."""
    p.goto('/instances/?limit=%d' % args.servers, wait_until='load')
    p.evaluate(OBSERVER)
    p.wait_for_function('document.body.classList.contains("live")', timeout=15000)
    time.sleep(2)                       # the stream has primed
    delays = {'SHUTOFF': [], 'ACTIVE': []}
    for sid in ids[:args.changes]:
        for action, status in (({'os-stop': None}, 'SHUTOFF'), ({'os-start': None}, 'ACTIVE')):
            p.evaluate('() => { window.__seen = {}; }')
            # At a random moment of the stream's poll cycle: otherwise each
            # action would follow the page's last update by the same time.
            time.sleep(random.uniform(0.0, 1.5))
            client.action(sid, action)
            t_api = wait(lambda sid=sid, status=status: client.server(sid)['status'] == status,
                         timeout=60, step=0.02)
            t_api_wall = time.time() * 1000.0 - (time.perf_counter() - t_api) * 1000.0
            key = 'status-%s:%s' % (sid, status)
            p.wait_for_function('(k) => k in window.__seen', arg=key, timeout=30000)
            delays[status].append(p.evaluate('(k) => window.__seen[k]', key) - t_api_wall)
    return delays


def browser_side(cloud, demo, args, client, ids):
    from playwright.sync_api import sync_playwright
    launch = ['--disable-dev-shm-usage'] + (['--no-sandbox'] if os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=launch)
        ctx = browser.new_context(base_url=cloud.dashboard_url,
                                  viewport={'width': 1280, 'height': 800})
        p = ctx.new_page()
        p.goto('/login?next=/instances/')
        p.fill('input[name=username]', 'demo')
        p.fill('input[name=password]', demo.password)
        p.click('form.login button[type=submit]')
        p.wait_for_url('**/instances/')
        print('\n(b) browser navigation (headless Chromium), %d loads each, a second apart:'
              % args.navigations, flush=True)
        for path in ('/instances/', '/instances/?limit=%d' % args.servers, '/'):
            dcl, ttfb, load = [], [], []
            for _ in range(args.navigations):
                # A second on each page, as a person would: its live stream
                # has primed (one full server list), so each navigation
                # is timed on its own, not on the last page's stream start.
                time.sleep(1.0)
                p.goto(path, wait_until='load')
                nav = p.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
                dcl.append(nav['domContentLoadedEventEnd'] - nav['startTime'])
                ttfb.append(nav['responseStart'] - nav['startTime'])
                load.append(nav['loadEventEnd'] - nav['startTime'])
            line('%s DOMContentLoaded' % path, dcl, target=1000)
            line('%s   first byte' % path, ttfb)
            line('%s   load' % path, load)
        print('\n(c) a status change through the API -> the open page shows it, %d changes:'
              % (2 * args.changes), flush=True)
        delays = status_delays(p, client, ids, args)
        line('stop:  API shows SHUTOFF -> the page\'s badge does', delays['SHUTOFF'],
             target=2000)
        line('start: API shows ACTIVE  -> the page\'s badge does', delays['ACTIVE'],
             target=2000)
        line('both', delays['SHUTOFF'] + delays['ACTIVE'], target=2000)
        browser.close()


class Demo:
    def __init__(self, cloud):
        from tests.functional.cloud import DEMO_PASSWORD
        self.password = DEMO_PASSWORD
        conn = cloud.sdk('demo')
        self.token = conn.auth_token
        self.project_id = conn.current_project_id


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--servers', type=int, default=100)
    ap.add_argument('--requests', type=int, default=50)
    ap.add_argument('--navigations', type=int, default=20)
    ap.add_argument('--changes', type=int, default=10)
    ap.add_argument('--networks', default='auto', choices=['auto', 'none'],
                    help="the servers' networks: a port each on the shared private "
                         "network (an address in each row), or none")
    args = ap.parse_args()
    with LocalCloud(dashboard=True, extra_conf=EXTRA_CONF, report_interval=5,
                    service_down_time=20) as cloud:
        pid = cloud.procs['dashboard'].pid
        print('load average at the start: %.1f %.1f %.1f' % os.getloadavg())
        print_rss('idle (no session)', pid)
        image = cloud.upload_tiny_image()['id']
        admin = Client(cloud)
        demo = Demo(cloud)
        admin.call('PUT', '/compute/v2.1/os-quota-sets/' + demo.project_id, json={
            'quota_set': {'instances': args.servers + 10, 'cores': 4 * args.servers,
                          'ram': 1024 * args.servers}})
        client = Client(cloud, who='demo')
        t0 = time.perf_counter()
        ids = boot_many(client, image, args.servers, args.networks)
        print('%d servers ACTIVE in the demo project (fake driver, networks %s) in %.1f s'
              % (len(ids), args.networks, time.perf_counter() - t0), flush=True)
        server_side(cloud, demo, args)
        print_rss('after (a)', pid)
        browser_side(cloud, demo, args, client, ids)
        print('\n(d)')
        print_rss('after (a)-(c)', pid)
        print('\nload average at the end: %.1f %.1f %.1f (1, 5, 15 min; %d CPUs)'
              % (os.getloadavg() + (os.cpu_count(),)))


if __name__ == '__main__':
    main()
