"""What the benchmark scripts share: the repository on sys.path (for the
test cloud), a small admin HTTP client of a running cloud, polling, and a
p50 summary. Benchmarks time raw API calls (requests), not the CLI, so the
figures are the cloud's and not the client's start-up."""

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from tests.functional.cloud import LocalCloud  # noqa: E402,F401 - for the scripts


def wait(predicate, timeout=120, step=0.02):
    """perf_counter() when ``predicate()`` first holds; TimeoutError after
    ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(step)
    raise TimeoutError('not within %s s' % timeout)


def summary(xs, unit='s', digits=2):
    """'p50 X s (min Y, max Z)' of a list of figures."""
    f = '%%.%df' % digits
    return ('p50 ' + f + ' %s (min ' + f + ', max ' + f + ')') % (
        statistics.median(xs), unit, min(xs), max(xs))


class Client:
    """The admin (or ``who``, e.g. 'demo') of a running cloud over HTTP."""

    def __init__(self, cloud, versions='compute 2.61, volume 3.64', who='admin'):
        self.api = 'http://127.0.0.1:%d' % cloud.api_port
        self.images = 'http://127.0.0.1:%d/v2/images' % cloud.image_port
        conn = cloud.sdk(who)
        self.project = conn.current_project_id
        self.s = requests.Session()
        self.s.headers.update({'X-Auth-Token': conn.auth_token,
                               'OpenStack-API-Version': versions})

    def call(self, method, path, **kw):
        """JSON of the answer (None when empty); RuntimeError on 4xx/5xx."""
        r = self.s.request(method, self.api + path, timeout=60, **kw)
        if r.status_code >= 400:
            raise RuntimeError('%s %s: %s %s' % (method, path, r.status_code, r.text))
        return r.json() if r.content else None

    def volume(self, vid):
        return self.call('GET', '/volume/v3/%s/volumes/%s' % (self.project, vid))['volume']

    def server(self, sid):
        return self.call('GET', '/compute/v2.1/servers/' + sid)['server']

    def action(self, sid, body, **kw):
        return self.call('POST', '/compute/v2.1/servers/%s/action' % sid, json=body, **kw)

    def wait_server(self, sid, status, timeout=300, step=0.05):
        """perf_counter() when the server shows ``status`` with no task
        under way; RuntimeError if it goes to ERROR."""
        def there():
            srv = self.server(sid)
            if srv['status'] == 'ERROR' and status != 'ERROR':
                raise RuntimeError('server %s went to ERROR: %s' % (sid, srv.get('fault')))
            return srv['status'] == status and srv['OS-EXT-STS:task_state'] is None
        return wait(there, timeout=timeout, step=step)

    def boot(self, image_id, name='bench', wait_active=True, **fields):
        """The new server's id (ACTIVE unless ``wait_active`` is False)."""
        body = dict({'name': name, 'imageRef': image_id, 'flavorRef': '1',
                     'networks': 'none'}, **fields)
        sid = self.call('POST', '/compute/v2.1/servers', json={'server': body})['server']['id']
        if wait_active:
            self.wait_server(sid, 'ACTIVE')
        return sid

    def delete_servers(self, ids):
        """Delete and wait until every one is gone."""
        for sid in ids:
            self.s.delete(self.api + '/compute/v2.1/servers/' + sid)
        for sid in ids:
            wait(lambda sid=sid: self.s.get(self.api + '/compute/v2.1/servers/' + sid)
                 .status_code == 404, timeout=120, step=0.1)


class GuestShell:
    """The guest's serial console over its loopback TCP socket."""

    def __init__(self, server_id, uri='qemu:///system'):
        xml = subprocess.run(['virsh', '-c', uri, 'dumpxml', 'altostack-%s' % server_id],
                             capture_output=True, text=True, check=True).stdout
        port = int(re.search(r"<serial type='tcp'>\s*<source mode='bind' host='[^']+' "
                             r"service='(\d+)'", xml).group(1))
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=120)
        self.buf = b''
        self.run('stty -echo')

    def send(self, line):
        self.sock.sendall(line.encode() + b'\n')

    def until(self, marker):
        while marker.encode() not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError('the console closed')
            self.buf += chunk
        t = time.perf_counter()
        self.buf = self.buf.split(marker.encode(), 1)[1]
        return t

    def run(self, command):
        mark = 'M%s' % uuid.uuid4().hex[:8]
        self.send('%s; echo %s""DONE' % (command, mark))
        self.until('%sDONE' % mark)
