"""The openstack CLI without its start-up cost: a server process imports
openstackclient (and the command modules the tests use) once, then forks a
child per command, which runs the CLI's own entry point
(openstackclient.shell.main) with the command's argv, environment and
working directory, its stdout and stderr going to the caller's files. The
code that runs is the installed CLI's, as with a fresh process; only the
imports, a second or more of CPU per command on a two-core machine running
TCG guests, are done once.

    r = run(['--os-cloud', 'x', 'token', 'issue'], env, timeout=120)
    # a subprocess.CompletedProcess: returncode, stdout, stderr (text)

On by default; ALTOSTACK_TEST_CLI_FORK=0 runs each command as a process of
its own. With commands a hundred times cheaper, tests that raced a guest
against the slow CLI showed it (a guest pinging another that had not booted
yet); their scripts now wait for what they need.
"""

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Imported by the server before it forks (what the tests' commands load).
PRELOAD = (
    'openstackclient.shell', 'openstack', 'openstack.config.loader', 'keystoneauth1',
    'openstackclient.common.quota', 'openstackclient.common.availability_zone',
    'openstackclient.compute.v2.server', 'openstackclient.compute.v2.server_event',
    'openstackclient.compute.v2.server_migration', 'openstackclient.compute.v2.console',
    'openstackclient.compute.v2.flavor', 'openstackclient.compute.v2.aggregate',
    'openstackclient.compute.v2.hypervisor', 'openstackclient.compute.v2.service',
    'openstackclient.compute.v2.server_image', 'openstackclient.compute.v2.server_volume',
    'openstackclient.identity.v3.token', 'openstackclient.identity.v3.project',
    'openstackclient.identity.v3.user', 'openstackclient.identity.v3.role',
    'openstackclient.identity.v3.role_assignment', 'openstackclient.identity.v3.catalog',
    'openstackclient.image.v2.image', 'openstackclient.network.v2.network',
    'openstackclient.network.v2.subnet', 'openstackclient.network.v2.port',
    'openstackclient.network.v2.router', 'openstackclient.network.v2.floating_ip',
    'openstackclient.network.v2.security_group',
    'openstackclient.network.v2.security_group_rule',
    'openstackclient.volume.v3.volume', 'openstackclient.volume.v3.volume_snapshot',
    'openstackclient.volume.v3.volume_attachment',
)

_lock = threading.Lock()
_server = {}


def _enabled():
    return os.environ.get('ALTOSTACK_TEST_CLI_FORK', '1') != '0'


# -- the server ---------------------------------------------------------------

def serve(path, parent):
    import importlib
    # The program's name, as the script has it (cliff takes it at import).
    sys.argv = [os.path.join(os.path.dirname(sys.executable), 'openstack')]
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)
    srv.settimeout(2)
    import signal
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    sys.stdout.flush()
    sys.stderr.flush()
    while os.getppid() == parent:  # ends with the test process
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        if os.fork() == 0:
            srv.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _child(conn)
        conn.close()


def _child(conn):
    rc = 1
    try:
        conn.settimeout(None)
        msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 2)
        req = json.loads(msg)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.environ.clear()
        os.environ.update(req['env'])
        os.chdir(req['cwd'])
        conn.sendall(json.dumps({'pid': os.getpid()}).encode() + b'\n')
        from openstackclient import shell
        sys.argv = [req['argv0']] + req['args']
        try:
            rc = shell.main(req['args'])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: B036 - whatever happens, the caller hears
        import traceback
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: S110 - a closed stream has nothing to give
                pass
        try:
            conn.sendall(json.dumps({'rc': rc if isinstance(rc, int) else 1}).encode() +
                         b'\n')
        finally:
            os._exit(0)


# -- the callers --------------------------------------------------------------

def _start():
    path = os.path.join(tempfile.mkdtemp(prefix='altostack-cli-'), 'sock')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get('PYTHONPATH')) if p))
    proc = subprocess.Popen(
        [sys.executable, '-c', 'import sys; from tests.functional import cli_fork; '
         'cli_fork.serve(sys.argv[1], int(sys.argv[2]))', path, str(os.getpid())],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            return None
        time.sleep(0.1)
    atexit.register(_stop, proc, path)
    return path


def _stop(proc, path):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    with_dir = os.path.dirname(path)
    for p in (path, with_dir):
        try:
            (os.rmdir if p == with_dir else os.unlink)(p)
        except OSError:
            pass


def _socket_path():
    with _lock:
        if 'path' not in _server:
            _server['path'] = _start()
        return _server['path']


def _lines(conn, deadline):
    buf = b''
    while True:
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = conn.recv(4096)
        if not chunk:
            return
        buf += chunk
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            yield json.loads(line)


def run(cmd, env, timeout=120):
    """``cmd``: the openstack script's path and its arguments."""
    path = _socket_path() if _enabled() else None
    if path is None:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        socket.send_fds(conn, [json.dumps({'args': list(cmd[1:]), 'argv0': cmd[0],
                                           'env': env, 'cwd': os.getcwd()}).encode()],
                        [out.fileno(), err.fileno()])
        pid, rc = None, None
        try:
            for msg in _lines(conn, deadline):
                pid = msg.get('pid', pid)
                if 'rc' in msg:
                    rc = msg['rc']
                    break
        except TimeoutError:
            if pid:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            raise subprocess.TimeoutExpired(cmd, timeout) from None
        out.seek(0)
        err.seek(0)
        # As subprocess's text mode reads them (universal newlines).
        stdout, stderr = (f.read().decode('utf-8', 'replace').replace('\r\n', '\n')
                          .replace('\r', '\n') for f in (out, err))
    if rc is None:
        rc = 1
        stderr += '\n[cli_fork] the command ended without a return code\n'
    return subprocess.CompletedProcess(cmd, rc, stdout, stderr)
