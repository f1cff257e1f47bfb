"""Forked API workers end with their parent, even after its kill -9."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SERVER = textwrap.dedent('''
    import sys, time
    from common import wsgi

    def app_factory():
        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [b'ok']
        return app

    server = wsgi.WSGIServer('test', app_factory, '127.0.0.1', int(sys.argv[1]),
                             threads=1, workers=2)
    server.start()
    while True:
        time.sleep(1)
''')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _children(pid):
    out = subprocess.run(['ps', '-o', 'pid=', '--ppid', str(pid)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_parent():
    port = _free_port()
    parent = subprocess.Popen([sys.executable, '-c', SERVER, str(port)],
                              env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        deadline = time.monotonic() + 20
        workers = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = _children(parent.pid)
            time.sleep(0.1)
        assert len(workers) == 2, 'the server did not fork its two workers'
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
        assert not left, 'workers %s outlived their killed parent' % left
    finally:
        for pid in [parent.pid] + _children(parent.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
