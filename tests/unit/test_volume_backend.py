"""The volume backend library: the registry, the file backend's volume
logic on real files (qemu-img, cheap), connection_info shapes and the
export registry against a fake daemon monitor, and one short run of a real
qemu-storage-daemon (export, kill, restore) when it is installed."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from blockstore import exception
from blockstore.backends import base
from blockstore.backends import file as file_mod
from blockstore.backends import load_backend
from common.conf import CONF

GiB = 1024 ** 3
needs_qemu_img = pytest.mark.skipif(not (shutil.which('qemu-img') and shutil.which('qemu-io')),
                                    reason='needs qemu-img, qemu-io (Debian: qemu-utils)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class FakeQMP:
    """The daemon's monitor, in memory: nodes and exports."""
    nodes = {}
    exports = {}
    calls = []
    fail = {}

    def __init__(self, path, timeout=None):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, command, **args):
        FakeQMP.calls.append((command, args))
        if command in FakeQMP.fail:
            raise file_mod.QMPError(reason=FakeQMP.fail[command])
        if command == 'blockdev-add':
            assert args['node-name'] not in FakeQMP.nodes, 'opened twice'
            FakeQMP.nodes[args['node-name']] = args
        elif command == 'blockdev-del':
            assert not any(e['node-name'] == args['node-name']
                           for e in FakeQMP.exports.values())
            del FakeQMP.nodes[args['node-name']]
        elif command == 'block-export-add':
            FakeQMP.exports[args['id']] = args
        elif command == 'block-export-del':
            del FakeQMP.exports[args['id']]
        elif command == 'query-block-exports':
            return [{'id': i, 'node-name': e['node-name']} for i, e in FakeQMP.exports.items()]
        elif command == 'query-named-block-nodes':
            return [{'node-name': n} for n in FakeQMP.nodes]
        return {}


class FakeDaemonBackend(file_mod.FileBackend):
    """The file backend with a daemon that is 'up' once started."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.up = False
        self.starts = 0

    def daemon_pid(self):
        return 4242 if self.up else None

    def _run(self, *argv):
        if argv[0] == file_mod.QSD:
            self.starts += 1
            self.up = True
            FakeQMP.nodes.clear()
            FakeQMP.exports.clear()
            return None
        return super()._run(*argv)


@pytest.fixture
def fake_qmp(monkeypatch):
    FakeQMP.nodes, FakeQMP.exports, FakeQMP.calls, FakeQMP.fail = {}, {}, [], {}
    monkeypatch.setattr(file_mod, 'QMP', FakeQMP)
    return FakeQMP


@pytest.fixture
def backend(tmp_path, fake_qmp):
    return FakeDaemonBackend(volumes_dir=str(tmp_path / 'vols'), volume_format='qcow2',
                             nbd_host='127.0.0.1', nbd_port=10899)


REMOTE = {'host': 'compute-2', 'ip': '192.0.2.2'}


# -- registry and interface -----------------------------------------------------

def test_load_backend_registry(tmp_path):
    b = load_backend('file', volumes_dir=str(tmp_path))
    assert isinstance(b, file_mod.FileBackend) and isinstance(b, base.VolumeBackend)
    with pytest.raises(exception.BackendError, match='unknown volume backend'):
        load_backend('ceph-someday')


def test_options_fall_back_to_defaults(tmp_path):
    b = file_mod.FileBackend()
    assert b.volumes_dir.endswith('/volumes')
    assert b.nbd_host == '127.0.0.1'
    assert isinstance(b.nbd_port, int)
    assert b.volume_format in file_mod.FORMATS


def test_ids_and_sizes_are_checked(backend):
    for bad in ('../etc', 'a/b', '', None, '-x'):
        with pytest.raises(Exception) as e:
            backend.create(bad, 1)
        assert getattr(e.value, 'code', None) == 400
    for bad in (0, -1, 1.5, 'x'):
        with pytest.raises(exception.InvalidSize):
            backend.create('vol-1', bad)


# -- files (real qemu-img) ---------------------------------------------------------

def info(path):
    return json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', path],
                                     check=True, capture_output=True, text=True).stdout)


def write_marker(path, fmt, data):
    src = path + '.marker'
    with open(src, 'wb') as f:
        f.write(data.ljust(512, b'\0'))
    subprocess.run(['qemu-io', '-f', fmt, '-c', 'write -q -s %s 0 512' % src, path],
                   check=True, capture_output=True)
    os.unlink(src)


def read_marker(path, fmt, n):
    out = path + '.read'
    subprocess.run(['qemu-img', 'dd', '-U', '-f', fmt, '-O', 'raw', 'bs=512', 'count=1',
                    'if=%s' % path, 'of=%s' % out], check=True, capture_output=True)
    with open(out, 'rb') as f:
        data = f.read(n)
    os.unlink(out)
    return data


@needs_qemu_img
def test_create_extend_never_shrinks_delete(backend):
    backend.create('vol-1', 1)
    path, fmt = backend.find_volume('vol-1')
    assert fmt == 'qcow2' and path.endswith('volume-vol-1.qcow2')
    assert info(path)['virtual-size'] == GiB and os.path.getsize(path) < 1024 * 1024  # thin
    with pytest.raises(exception.VolumeExists):
        backend.create('vol-1', 1)
    backend.extend('vol-1', 3)
    assert backend.virtual_size('vol-1') == 3 * GiB
    backend.extend('vol-1', 3)  # same size: nothing to do
    with pytest.raises(exception.InvalidSize, match='never shrink'):
        backend.extend('vol-1', 2)
    assert backend.virtual_size('vol-1') == 3 * GiB
    backend.delete('vol-1')
    assert backend.find_volume('vol-1') is None
    backend.delete('vol-1')  # absent: fine
    with pytest.raises(exception.VolumeNotFound):
        backend.extend('vol-1', 4)


@needs_qemu_img
def test_raw_volumes(tmp_path, fake_qmp):
    b = FakeDaemonBackend(volumes_dir=str(tmp_path), volume_format='raw')
    b.create('r1', 1)
    path, fmt = b.find_volume('r1')
    assert fmt == 'raw' and os.path.getsize(path) == GiB and info(path)['format'] == 'raw'
    assert b.initialize_connection('r1', {'host': CONF.host})['data']['format'] == 'raw'


@needs_qemu_img
def test_snapshot_and_clones_are_independent(backend):
    backend.create('src', 1)
    path, fmt = backend.find_volume('src')
    write_marker(path, fmt, b'MARK-ONE')
    backend.create_snapshot('snap-1', 'src')
    snap = backend.snapshot_path('snap-1')
    assert info(snap).get('backing-filename') is None  # standalone copy
    write_marker(path, fmt, b'MARK-TWO')  # the volume moves on; the snapshot does not
    with pytest.raises(exception.InvalidSize):
        backend.create_from_snapshot('too-small', 'snap-1', 0)
    backend.create_from_snapshot('from-snap', 'snap-1', 2)
    backend.create_from_volume('clone', 'src', 1)
    backend.delete('src')  # any order
    backend.delete_snapshot('snap-1')
    backend.delete_snapshot('snap-1')
    p, f = backend.find_volume('from-snap')
    assert read_marker(p, f, 8) == b'MARK-ONE' and backend.virtual_size('from-snap') == 2 * GiB
    p, f = backend.find_volume('clone')
    assert read_marker(p, f, 8) == b'MARK-TWO' and info(p).get('backing-filename') is None
    with pytest.raises(exception.SnapshotNotFound):
        backend.create_from_snapshot('x', 'snap-1', 1)
    with pytest.raises(exception.VolumeNotFound):
        backend.create_from_volume('x', 'src', 1)
    assert not [n for n in os.listdir(backend.volumes_dir) if n.endswith('.part')]


@needs_qemu_img
def test_clone_smaller_than_its_source_is_refused_and_leaves_nothing(backend):
    backend.create('big', 2)
    with pytest.raises(exception.InvalidSize):
        backend.create_from_volume('small', 'big', 1)
    assert backend.find_volume('small') is None
    assert sorted(os.listdir(backend.volumes_dir)) == ['volume-big.qcow2']


@needs_qemu_img
def test_create_from_image(backend, tmp_path):
    img = str(tmp_path / 'img.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', img, '64M'], check=True)
    write_marker(img, 'qcow2', b'IMAGE-BITS')
    backend.create_from_image('from-img', img, 1)
    p, f = backend.find_volume('from-img')
    assert read_marker(p, f, 10) == b'IMAGE-BITS' and backend.virtual_size('from-img') == GiB
    # an image that names a backing file is refused
    over = str(tmp_path / 'over.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', img, '-F', 'qcow2', over],
                   check=True)
    with pytest.raises(exception.BackendError, match='backing file'):
        backend.create_from_image('bad', over, 1)
    with pytest.raises(exception.BackendError, match='does not exist'):
        backend.create_from_image('bad', str(tmp_path / 'nope'), 1)
    assert backend.find_volume('bad') is None


def test_stats(backend):
    stats = backend.get_stats()
    assert stats['total_gb'] > 0 and 0 <= stats['free_gb'] <= stats['total_gb']


# -- connections and the export registry ------------------------------------------------

@needs_qemu_img
def test_local_host_gets_the_file(backend):
    backend.create('v', 1)
    ci = backend.initialize_connection('v', {'host': CONF.host, 'ip': '127.0.0.1'})
    assert ci == {'driver_volume_type': 'file',
                  'data': {'path': backend.find_volume('v')[0], 'format': 'qcow2'}}
    backend.terminate_connection('v', {'host': CONF.host})
    assert backend.starts == 0 and FakeQMP.calls == []
    CONF.set_override('local_attach', True, 'volume')  # "config says local"
    try:
        assert backend.initialize_connection('v', REMOTE)['driver_volume_type'] == 'file'
    finally:
        CONF.clear_override('local_attach', 'volume')


@needs_qemu_img
def test_remote_host_gets_an_nbd_export_opened_once(backend):
    backend.create('v', 1)
    ci = backend.initialize_connection('v', REMOTE)
    assert ci == {'driver_volume_type': 'nbd',
                  'data': {'host': '127.0.0.1', 'port': 10899, 'name': 'v', 'format': 'raw'}}
    node = file_mod.node_name('v')
    assert len(node) <= 31
    assert FakeQMP.nodes[node]['driver'] == 'qcow2'
    assert FakeQMP.nodes[node]['file']['filename'] == backend.find_volume('v')[0]
    assert FakeQMP.exports[node] == {'type': 'nbd', 'id': node, 'node-name': node,
                                     'name': 'v', 'writable': True}
    # another host, and the same host again: one export, one open
    assert backend.initialize_connection('v', {'host': 'compute-3'}) == ci
    assert backend.initialize_connection('v', REMOTE) == ci
    assert backend.starts == 1 and len(FakeQMP.nodes) == 1
    assert backend.list_exports()['v']['connectors'] == ['compute-2', 'compute-3']
    # the local host may not have the file while it is exported
    with pytest.raises(exception.VolumeBusy):
        backend.initialize_connection('v', {'host': CONF.host})
    # nor may it grow under the export
    with pytest.raises(exception.VolumeBusy):
        backend.extend('v', 2)
    backend.terminate_connection('v', REMOTE)
    assert node in FakeQMP.exports  # compute-3 still uses it
    backend.terminate_connection('v', {'host': 'compute-3'})
    assert FakeQMP.exports == {} and FakeQMP.nodes == {} and backend.list_exports() == {}
    backend.terminate_connection('v', REMOTE)  # unknown: fine


@needs_qemu_img
def test_delete_removes_the_export_first(backend):
    backend.create('v', 1)
    backend.initialize_connection('v', REMOTE)
    backend.delete('v')
    cmds = [c for c, _a in FakeQMP.calls]
    assert cmds.index('block-export-del') < cmds.index('blockdev-del')
    assert FakeQMP.exports == {} and backend.list_exports() == {}
    assert backend.find_volume('v') is None


@needs_qemu_img
def test_failed_export_leaves_no_node_and_no_entry(backend):
    backend.create('v', 1)
    FakeQMP.fail['block-export-add'] = 'boom'
    with pytest.raises(file_mod.QMPError, match='boom'):
        backend.initialize_connection('v', REMOTE)
    assert FakeQMP.nodes == {} and backend.list_exports() == {}


@needs_qemu_img
def test_dead_daemon_is_restarted_with_its_exports(backend):
    backend.create('v1', 1)
    backend.create('v2', 1)
    backend.initialize_connection('v1', REMOTE)
    backend.initialize_connection('v2', REMOTE)
    backend.up = False  # the daemon died
    backend.delete('v2')  # deleting with the daemon dead only drops the entry
    assert sorted(backend.list_exports()) == ['v1']
    backend.start()
    assert backend.starts == 2
    assert sorted(e['name'] for e in FakeQMP.exports.values()) == ['v1']
    # an export whose file vanished is dropped on restore
    backend.up = False
    os.unlink(backend.find_volume('v1')[0])
    backend.start()
    assert FakeQMP.exports == {} and backend.list_exports() == {}


def test_start_without_exports_starts_no_daemon(backend):
    backend.start()
    assert backend.starts == 0


def test_unreadable_registry_is_empty(backend):
    os.makedirs(os.path.dirname(backend.registry_path))
    with open(backend.registry_path, 'w') as f:
        f.write('{not json')
    assert backend.list_exports() == {}


def test_long_state_folders_get_a_short_monitor_socket(tmp_path):
    b = file_mod.FileBackend(volumes_dir=str(tmp_path / ('x' * 120)))
    assert len(b.qmp_path) <= file_mod.MAX_UNIX_PATH and b.qmp_path.startswith('/tmp/')


# -- a real daemon (fast; skipped when it is not installed) -------------------------------

@needs_qemu_img
@pytest.mark.skipif(not shutil.which('qemu-storage-daemon'),
                    reason='needs qemu-storage-daemon (Debian: qemu-system-x86)')
def test_real_daemon_exports_restarts_and_stops(tmp_path):
    b = file_mod.FileBackend(volumes_dir=str(tmp_path / 'v'), nbd_port=free_port())
    try:
        b.create('vol-a', 1)
        ci = b.initialize_connection('vol-a', REMOTE)
        pid = b.daemon_pid()
        assert pid and b.daemon_exports() == [file_mod.node_name('vol-a')]
        url = 'nbd://127.0.0.1:%d/vol-a' % ci['data']['port']
        out = subprocess.run(['qemu-img', 'info', '--output=json', url], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        assert json.loads(out)['virtual-size'] == GiB
        b.create('vol-b', 1)
        b.initialize_connection('vol-b', REMOTE)
        assert b.daemon_pid() == pid  # adding an export never restarts it
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while b.daemon_pid() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        b.start()
        assert b.daemon_pid() not in (None, pid)
        assert b.daemon_exports() == sorted(file_mod.node_name(v) for v in ('vol-a', 'vol-b'))
        b.delete('vol-a')
        assert b.daemon_exports() == [file_mod.node_name('vol-b')]
        b.stop()  # an export is in use: the daemon stays for its guests
        assert b.daemon_pid() is not None
    finally:
        b.stop(keep_exports=False)
    assert b.daemon_pid() is None and not os.path.exists(b.pid_path)


def test_the_connection_names_an_address_other_hosts_reach(tmp_path, fake_qmp):
    # Hosts in other network namespaces (devstack/lib/hosts.sh) connect to
    # the address the daemon listens on, never to a wildcard.
    b = FakeDaemonBackend(volumes_dir=str(tmp_path), nbd_host='10.250.0.1', nbd_port=10899)
    assert b.nbd_connect_host == '10.250.0.1'
    anywhere = FakeDaemonBackend(volumes_dir=str(tmp_path), nbd_host='0.0.0.0',
                                 nbd_port=10899)
    assert anywhere.nbd_connect_host == CONF.my_ip
