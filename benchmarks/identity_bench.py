#!/usr/bin/env python3
"""Identity benchmark: token validation, an authenticated cheap GET and
password token issue; p50, p99 and requests/s over N requests with 1 and 8
clients (each client its own process with a keep-alive connection).

Starts a real all-in-one cloud (tests/functional/cloud.py) with the default
password cost unless --url is given. Prints a table; record it in README.

    python benchmarks/identity_bench.py [--requests 1000]
"""

import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

PASSWORD_ROUNDS = 100000  # [identity] password_hash_rounds default


def _auth_body(password):
    return json.dumps({'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'admin', 'domain': {'id': 'default'}, 'password': password}}},
        'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}})


def _worker(args):
    base, kind, count, token, password = args
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    if kind == 'validate':
        method, path, body = 'GET', '/identity/v3/auth/tokens?nocatalog', None
        headers = {'X-Auth-Token': token, 'X-Subject-Token': token}
    elif kind == 'get':
        method, path, body = 'GET', '/identity/v3/regions/RegionOne', None
        headers = {'X-Auth-Token': token}
    else:
        method, path, body = 'POST', '/identity/v3/auth/tokens?nocatalog', _auth_body(password)
        headers = {'Content-Type': 'application/json'}
    want = 201 if kind == 'issue' else 200
    times = []
    for _ in range(count):
        t = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        times.append(time.perf_counter() - t)
        if resp.status != want:
            raise SystemExit('%s answered %d' % (kind, resp.status))
    conn.close()
    return times


def run(base, kind, total, clients, token, password):
    per = total // clients
    with multiprocessing.Pool(clients) as pool:
        t = time.perf_counter()
        results = pool.map(_worker, [(base, kind, per, token, password)] * clients)
        wall = time.perf_counter() - t
    times = sorted(x for r in results for x in r)
    p50 = statistics.median(times) * 1000
    p99 = times[int(len(times) * 0.99) - 1] * 1000
    return p50, p99, len(times) / wall


def hash_cost(rounds):
    t = time.perf_counter()
    for _ in range(5):
        hashlib.pbkdf2_hmac('sha256', b'password', b'0123456789abcdef', rounds)
    return (time.perf_counter() - t) / 5 * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--requests', type=int, default=1000)
    ap.add_argument('--issue-requests', type=int, default=None,
                    help='requests for token issue (default: --requests)')
    ap.add_argument('--url', help='an already running API (needs --password)')
    ap.add_argument('--password', default=None)
    ap.add_argument('--api-workers', type=int, default=0,
                    help='[api] workers of the started cloud (0: the default, two per CPU)')
    args = ap.parse_args()
    cloud = None
    if args.url:
        base, password = args.url.rstrip('/'), args.password
    else:
        from tests.functional.cloud import ADMIN_PASSWORD
        from tests.functional.cloud import LocalCloud
        cloud = LocalCloud(password_hash_rounds=PASSWORD_ROUNDS,
                           extra_conf='[api]\nworkers = %d\n' % args.api_workers).start()
        base, password = 'http://127.0.0.1:%d' % cloud.api_port, ADMIN_PASSWORD
    try:
        u = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(u.hostname, u.port)
        conn.request('POST', '/identity/v3/auth/tokens', body=_auth_body(password),
                     headers={'Content-Type': 'application/json'})
        resp = conn.getresponse()
        resp.read()
        token = resp.getheader('X-Subject-Token')
        print('machine: %d cores; one password check at %d rounds: %.1f ms'
              % (os.cpu_count(), PASSWORD_ROUNDS, hash_cost(PASSWORD_ROUNDS)))
        print('%-22s %8s %9s %9s %8s' % ('case', 'clients', 'p50 ms', 'p99 ms', 'req/s'))
        for kind, label in (('validate', 'token validation'), ('get', 'authenticated GET'),
                            ('issue', 'password token issue')):
            n = args.issue_requests if kind == 'issue' and args.issue_requests else \
                args.requests
            for clients in (1, 8):
                p50, p99, rps = run(base, kind, n, clients, token, password)
                print('%-22s %8d %9.2f %9.2f %8.0f' % (label, clients, p50, p99, rps))
    finally:
        if cloud:
            cloud.stop()


if __name__ == '__main__':
    main()
