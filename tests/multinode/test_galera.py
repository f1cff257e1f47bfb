"""Issue 15, test 4: the cloud's database on a 3-node MariaDB Galera cluster
behind HAProxy (one writer, two backups; devstack/lib/galera.sh). The writer
is killed with SIGKILL during a burst of boots (real TCG guests) and API
writes: the transactions it was running are run again by the services
(common/unit_of_work.py; the scheduler places a build again even after its
claim committed, scheduler/build.py), every server ends ACTIVE, nothing is
made twice, the client sees no 5xx (or a clear 503 that made nothing), and
the killed node rejoins by IST (cluster size 3 again). The write failover
time (kill to the first write that succeeds through the front) is printed."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pymysql
import pytest
import requests

from tests.fixtures.servers import wait_server
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists('/usr/lib/galera/libgalera_smm.so')
    or not shutil.which('haproxy') or not shutil.which('libvirtd'),
    reason='needs root, galera-4, haproxy and libvirtd')

GALERA_SH = os.path.join(cloud_mod.ROOT, 'devstack', 'lib', 'galera.sh')
BOOTS = 3
FLAVORS = 30


def galera(directory, *argv, timeout=300):
    """Run a function of devstack/lib/galera.sh on the cluster in ``directory``."""
    r = subprocess.run(['bash', '-c', 'source "$0" && "$@"', GALERA_SH, argv[0], directory,
                        *argv[1:]], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError('%s failed: %s%s' % (argv[0], r.stdout, r.stderr))
    return r.stdout.strip()


@pytest.fixture(scope='module')
def cluster():
    directory = tempfile.mkdtemp(prefix='alto-galera-')
    try:
        started = time.monotonic()
        galera(directory, 'altostack_galera_up', 'altostack', 'altostack', 'alto-pw')
        print('galera: 3 nodes and the front up in %.1f s' % (time.monotonic() - started))
        yield directory
    finally:
        galera(directory, 'altostack_galera_down')


@pytest.fixture(scope='module')
def gcloud(cluster):
    url = galera(cluster, 'altostack_galera_url')
    with cloud_mod.LocalCloud(db=url) as c:
        c.upload_tiny_image()
        yield c


def _probe_write(url_parts, table):
    """One small write through the front; True when it committed."""
    try:
        conn = pymysql.connect(connect_timeout=1, read_timeout=2, write_timeout=2,
                               autocommit=True, **url_parts)
    except pymysql.Error:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute('INSERT INTO %s () VALUES ()' % table)
        return True
    except pymysql.Error:
        return False
    finally:
        conn.close()


def test_writer_killed_during_a_boot_burst(cluster, gcloud):
    assert galera(cluster, 'altostack_galera_size') == '3'
    _db, user, password = open(os.path.join(cluster, 'login')).read().split()
    front = int(open(os.path.join(cluster, 'ports')).read().split()[0])
    url_parts = {'host': '127.0.0.1', 'port': front, 'user': user, 'password': password,
                 'database': 'altostack'}
    probe = 'probe_%s' % uuid.uuid4().hex[:6]
    conn = pymysql.connect(autocommit=True, **url_parts)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE %s (id INT AUTO_INCREMENT PRIMARY KEY)' % probe)
    conn.close()

    image = gcloud.openstack('image', 'show', 'altostack-tiny', json_out=True)['id']
    flavor = gcloud.openstack('flavor', 'show', 'm1.tiny', json_out=True)['id']
    tokens = {who: gcloud.sdk(who).auth_token for who in ('admin', 'demo')}
    tag = uuid.uuid4().hex[:6]
    answers = {'boot': [], 'flavor': []}

    def post(who, path, body):
        return requests.post('http://127.0.0.1:%d/compute/v2.1%s' % (gcloud.api_port, path),
                             json=body, timeout=120,
                             headers={'X-Auth-Token': tokens[who],
                                      'OpenStack-API-Version': 'compute 2.61'})

    def boots():
        for i in range(BOOTS):
            r = post('demo', '/servers', {'server': {
                'name': 'gal-%s-%d' % (tag, i), 'imageRef': image, 'flavorRef': flavor,
                'networks': 'none'}})
            answers['boot'].append((i, r.status_code, r.text[:300]))

    def flavors():
        for i in range(FLAVORS):
            r = post('admin', '/flavors', {'flavor': {
                'name': 'galf-%s-%d' % (tag, i), 'ram': 64, 'vcpus': 1, 'disk': 1}})
            answers['flavor'].append((i, r.status_code, r.text[:300]))

    writer = int(galera(cluster, 'altostack_galera_writer'))
    threads = [threading.Thread(target=boots), threading.Thread(target=flavors)]
    for t in threads:
        t.start()
    # Into the burst: the first boot request is in, the flavors are flowing.
    deadline = time.monotonic() + 60
    while len(answers['flavor']) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    galera(cluster, 'altostack_galera_kill', str(writer))
    killed = time.monotonic()
    while not _probe_write(url_parts, probe):
        assert time.monotonic() - killed < 60, 'no write through the front 60 s after the kill'
        time.sleep(0.05)
    failover = time.monotonic() - killed
    for t in threads:
        t.join(timeout=300)
    new_writer = int(galera(cluster, 'altostack_galera_writer'))
    print('galera: writer n%d killed; writes through the front again after %.2f s, on n%d'
          % (writer, failover, new_writer))
    assert new_writer != writer

    # Every answer: 2xx, or a clear 503 that made nothing.
    failed = {}
    for what, rows in answers.items():
        for i, code, text in rows:
            assert code < 500 or (code == 503 and 'database' in text), (what, i, code, text)
            if code >= 300:
                failed.setdefault(what, set()).add(i)
    print('galera: answers %s' % {w: sorted({c for _, c, _ in r}) for w, r in answers.items()})

    # The killed node rejoins (IST: the cache holds what it missed).
    log = os.path.join(cluster, 'n%d' % writer, 'err.log')
    before = os.path.getsize(log)
    started = time.monotonic()
    galera(cluster, 'altostack_galera_start', str(writer))
    print('galera: n%d rejoined in %.1f s; the writer is now n%s' % (
        writer, time.monotonic() - started, galera(cluster, 'altostack_galera_writer')))
    assert galera(cluster, 'altostack_galera_size') == '3'
    with open(log, errors='replace') as f:
        f.seek(before)
        rejoin = f.read().lower()
    assert 'ist received' in rejoin or 'receiving ist' in rejoin, rejoin[-3000:]

    # Every server that was accepted ends ACTIVE, once.
    conn = gcloud.sdk('demo')
    servers = [s for s in conn.compute.servers() if s.name.startswith('gal-%s-' % tag)]
    names = sorted(s.name for s in servers)
    assert len(names) == len(set(names))
    assert names == sorted('gal-%s-%d' % (tag, i) for i in range(BOOTS)
                           if i not in failed.get('boot', ()))
    for s in servers:
        try:
            wait_server(conn, s.id, {'ACTIVE'}, timeout=300)
        except AssertionError as e:
            said = ''.join(line for n in ('scheduler', 'conductor', 'compute')
                           for line in gcloud.log_tail(n, 100000).splitlines(True)
                           if s.id in line or 'running it again' in line
                           or 'not run again' in line)
            raise AssertionError('%s\nwhat the services logged of it:\n%s'
                                 % (e, said[-6000:])) from None
    # Each flavor that was accepted exists once; one refused does not.
    listed = [f['Name'] for f in gcloud.openstack('flavor', 'list', '--all', json_out=True)
              if f['Name'].startswith('galf-%s-' % tag)]
    assert sorted(listed) == sorted('galf-%s-%d' % (tag, i) for i in range(FLAVORS)
                                    if i not in failed.get('flavor', ()))
    logs = {n: gcloud.log_tail(n, 100000) for n in ('api', 'scheduler', 'conductor')}
    retried = sum(text.count('running it again') for text in logs.values())
    placed_again = sum('running it again' in line and ' placing ' in line
                       for line in logs['scheduler'].splitlines())
    print('galera: units of work run again after the kill: %d (builds placed again: %d)'
          % (retried, placed_again))
    for n, text in logs.items():
        for line in text.splitlines():
            if 'not run again' in line:
                print('galera: %s: %s' % (n, line[-400:]))
    for s in servers:
        conn.compute.delete_server(s.id)
