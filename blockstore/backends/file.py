"""The file backend: volumes are files, exports come from one
qemu-storage-daemon.

Layout under [volume] volumes_dir (default $state_path/volumes):

    volume-<id>.qcow2 | volume-<id>.raw   a volume ([volume] volume_format;
                                          qcow2 is thin, raw is sparse)
    snapshot-<id>.qcow2                   a snapshot: a full, standalone copy
                                          (qemu-img convert) of the volume's
                                          data at that moment; no backing
                                          chains, so volumes, clones and
                                          snapshots can be deleted in any order
    nbd/qsd.pid, nbd/qsd.qmp              the exports daemon and its monitor
    nbd/exports.json                      the exports it should have, to
                                          restore them after it died

A compute host on this machine gets the file itself ('file' connection);
any other host gets an NBD export named after the volume id, served by the
one daemon on [volume] nbd_bind_host:nbd_port (the address the
connection names: nbd_connect_host). Exports are added and
removed at run time through the daemon's QMP monitor, so adding one never
restarts it; a dead daemon is started again and its exports restored from
exports.json. A volume is opened by the daemon at most once (a second
connection reuses its export), and a volume exported over NBD is never
handed out as a file at the same time (the daemon also holds qemu's image
lock on it). The daemon outlives the volume service on purpose (guests keep
their disks while the service restarts): stop() ends it only when it serves
no export, stop(keep_exports=False) always.

Every command runs through one runner with a timeout ([volume]
command_timeout).
"""

import hashlib
import json
import os
import signal
import socket
import threading
import time

from oslo_log import log as logging

from blockstore import exception
from blockstore.backends import base
from common.conf import CONF
from common.host import cmd as hostcmd
from common.host import disk
from common.host import exception as host_exc

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
FORMATS = ('qcow2', 'raw')
QSD = 'qemu-storage-daemon'
QMP_TIMEOUT = 30.0
EXPORT_GONE_TIMEOUT = 10.0
DAEMON_STOP_TIMEOUT = 10.0
MAX_UNIX_PATH = 100

# What this backend reads from [volume] (common/conf/volume.py), with the
# defaults it uses when the group is not registered (unit tests of the
# backend alone).
DEFAULTS = {
    'volumes_dir': None,          # None: $state_path/volumes
    'volume_format': 'qcow2',
    'nbd_bind_host': '127.0.0.1',
    'nbd_port': None,             # None: nbd_port_min, else 10809
    'nbd_port_min': 10809,
    'local_attach': False,        # True: every connector gets a 'file' connection
    'command_timeout': 600,
}


def volume_opt(name):
    group = getattr(CONF, 'volume', None)
    try:
        value = getattr(group, name) if group is not None else None
    except Exception:  # noqa: BLE001 - NoSuchOptError and friends: use the default
        value = None
    return DEFAULTS[name] if value is None else value


class QMPError(exception.BackendError):
    msg_fmt = 'qemu-storage-daemon monitor: %(reason)s'


class QMP:
    """A minimal QMP client on a unix socket: one connection per use."""

    def __init__(self, path, timeout=QMP_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self._sock = None
        self._file = None

    def __enter__(self):
        try:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(self.timeout)
            self._sock.connect(self.path)
            self._file = self._sock.makefile('rwb')
            greeting = self._read()
            if 'QMP' not in greeting:
                raise QMPError(reason='unexpected greeting %r' % greeting)
            self.execute('qmp_capabilities')
        except OSError as e:
            self.close()
            raise QMPError(reason='cannot talk to %s: %s' % (self.path, e)) from e
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for obj in (self._file, self._sock):
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        self._file = self._sock = None

    def _read(self):
        line = self._file.readline()
        if not line:
            raise QMPError(reason='the monitor closed the connection')
        return json.loads(line)

    def execute(self, command, **arguments):
        msg = {'execute': command}
        if arguments:
            msg['arguments'] = arguments
        try:
            self._file.write(json.dumps(msg).encode() + b'\n')
            self._file.flush()
            while True:
                reply = self._read()
                if 'return' in reply:
                    return reply['return']
                if 'error' in reply:
                    raise QMPError(reason='%s: %s' % (command, reply['error'].get('desc')))
                # an event: skip it
        except OSError as e:
            raise QMPError(reason='%s: %s' % (command, e)) from e


def node_name(volume_id):
    """A block node name for the volume (QEMU allows 31 characters)."""
    return 'v' + hashlib.sha1(volume_id.encode()).hexdigest()[:24]


class FileBackend(base.VolumeBackend):
    connection_types = ('file', 'nbd')

    def __init__(self, volumes_dir=None, runner=None, volume_format=None, nbd_host=None,
                 nbd_port=None):
        """Arguments left None come from [volume] (see DEFAULTS)."""
        self._dir = volumes_dir
        self._runner = runner
        self._format = volume_format
        self._nbd_host = nbd_host
        self._nbd_port = nbd_port
        self._lock = threading.RLock()

    # -- configuration and paths -------------------------------------------
    @property
    def volumes_dir(self):
        return self._dir or volume_opt('volumes_dir') or os.path.join(CONF.state_path,
                                                                      'volumes')

    @property
    def volume_format(self):
        fmt = self._format or volume_opt('volume_format')
        if fmt not in FORMATS:
            raise exception.BackendError(reason='[volume] volume_format %r is not one of %s'
                                         % (fmt, ', '.join(FORMATS)))
        return fmt

    @property
    def nbd_host(self):
        return self._nbd_host or volume_opt('nbd_bind_host')

    @property
    def nbd_connect_host(self):
        """The address other hosts reach the exports at: the bind address,
        or this host's my_ip when the daemon listens on every address."""
        host = self.nbd_host
        if host in ('0.0.0.0', '::', ''):
            return CONF.my_ip
        return host

    @property
    def nbd_port(self):
        return int(self._nbd_port or volume_opt('nbd_port') or volume_opt('nbd_port_min'))

    @property
    def runner(self):
        if self._runner is None:
            self._runner = hostcmd.Runner(timeout=volume_opt('command_timeout'))
        return self._runner

    def _nbd_dir(self):
        return os.path.join(self.volumes_dir, 'nbd')

    @property
    def pid_path(self):
        return os.path.join(self._nbd_dir(), 'qsd.pid')

    @property
    def registry_path(self):
        return os.path.join(self._nbd_dir(), 'exports.json')

    @property
    def qmp_path(self):
        path = os.path.join(self._nbd_dir(), 'qsd.qmp')
        if len(path) > MAX_UNIX_PATH:  # sun_path is 108 bytes
            path = '/tmp/altostack-qsd-%s.qmp' % hashlib.sha1(path.encode()).hexdigest()[:16]
        return path

    def _volume_file(self, volume_id, fmt):
        return os.path.join(self.volumes_dir, 'volume-%s.%s' % (volume_id, fmt))

    def snapshot_path(self, snapshot_id):
        base.check_id(snapshot_id, 'snapshot id')
        return os.path.join(self.volumes_dir, 'snapshot-%s.qcow2' % snapshot_id)

    def find_volume(self, volume_id):
        """(path, format) of an existing volume or None."""
        base.check_id(volume_id, 'volume id')
        for fmt in FORMATS:
            path = self._volume_file(volume_id, fmt)
            if os.path.exists(path):
                return path, fmt
        return None

    def _get_volume(self, volume_id):
        found = self.find_volume(volume_id)
        if found is None:
            raise exception.VolumeNotFound('Volume %s is not on this backend.' % volume_id,
                                           volume_id=volume_id)
        return found

    def _new_volume_path(self, volume_id):
        if self.find_volume(volume_id) is not None:
            raise exception.VolumeExists(volume_id=volume_id)
        os.makedirs(self.volumes_dir, exist_ok=True)
        return self._volume_file(volume_id, self.volume_format)

    # -- commands -----------------------------------------------------------
    def _run(self, *argv):
        try:
            return self.runner.run(list(argv))
        except host_exc.VirtError as e:
            raise exception.BackendError(reason=str(e)) from e

    def _qemu_img(self, *args):
        return self._run('qemu-img', *args).stdout

    def image_info(self, path, fmt=None):
        args = ['info', '-U', '--output=json'] + (['-f', fmt] if fmt else []) + [path]
        return json.loads(self._qemu_img(*args))

    def virtual_size(self, volume_id):
        path, fmt = self._get_volume(volume_id)
        return self.image_info(path, fmt)['virtual-size']

    def _grow(self, path, fmt, size_gb):
        """Grow a new file to size_gb; smaller than its data is refused."""
        have = self.image_info(path, fmt)['virtual-size']
        want = size_gb * GiB
        if want < have:
            raise exception.InvalidSize(reason='%d GiB is smaller than the source (%d bytes)'
                                        % (size_gb, have))
        if want > have:
            self._qemu_img('resize', '-q', '-f', fmt, path, str(want))

    def _convert_into(self, volume_id, src, src_fmt, size_gb):
        """A new volume from ``src`` (read with -U: it may be in use)."""
        path = self._new_volume_path(volume_id)
        fmt = self.volume_format
        tmp = path + '.part'
        try:
            self._qemu_img('convert', '-U', '-q', '-f', src_fmt, '-O', fmt, src, tmp)
            self._grow(tmp, fmt, size_gb)
            os.rename(tmp, path)
        except Exception:
            _unlink(tmp)
            raise
        LOG.info('Volume %s made from %s (%d GiB, %s)', volume_id, src, size_gb, fmt)

    # -- volumes ------------------------------------------------------------
    def create(self, volume_id, size_gb):
        size_gb = base.check_size(size_gb)
        path = self._new_volume_path(volume_id)
        fmt = self.volume_format
        tmp = path + '.part'
        try:
            self._qemu_img('create', '-q', '-f', fmt, tmp, str(size_gb * GiB))
            os.rename(tmp, path)
        except Exception:
            _unlink(tmp)
            raise
        LOG.info('Volume %s created (%d GiB, %s)', volume_id, size_gb, fmt)

    def create_from_snapshot(self, volume_id, snapshot_id, size_gb):
        size_gb = base.check_size(size_gb)
        snap = self.snapshot_path(snapshot_id)
        if not os.path.exists(snap):
            raise exception.SnapshotNotFound('Snapshot %s is not on this backend.'
                                             % snapshot_id, snapshot_id=snapshot_id)
        self._convert_into(volume_id, snap, 'qcow2', size_gb)

    def create_from_volume(self, volume_id, source_volume_id, size_gb):
        size_gb = base.check_size(size_gb)
        src, src_fmt = self._get_volume(source_volume_id)
        self._convert_into(volume_id, src, src_fmt, size_gb)

    def create_from_image(self, volume_id, image_path, size_gb, image_format=None):
        size_gb = base.check_size(size_gb)
        if not os.path.isfile(image_path):
            raise exception.BackendError(reason='image file %s does not exist' % image_path)
        info = self.image_info(image_path, image_format)
        if info.get('backing-filename') or info.get('full-backing-filename'):
            # a probed image must not make us read another file of the host
            raise exception.BackendError(reason='image %s names a backing file; refused'
                                         % image_path)
        self._convert_into(volume_id, image_path, image_format or info['format'], size_gb)

    def delete(self, volume_id):
        base.check_id(volume_id, 'volume id')
        with self._lock:
            if volume_id in self._load_registry():
                self._unexport(volume_id)
        for fmt in FORMATS:
            path = self._volume_file(volume_id, fmt)
            _unlink(path)
            _unlink(path + '.part')
        LOG.info('Volume %s deleted', volume_id)

    def extend(self, volume_id, new_size_gb):
        new_size_gb = base.check_size(new_size_gb)
        path, fmt = self._get_volume(volume_id)
        have = self.image_info(path, fmt)['virtual-size']
        want = new_size_gb * GiB
        if want < have:
            raise exception.InvalidSize(reason='volumes never shrink (%d bytes now, %d GiB '
                                        'asked)' % (have, new_size_gb))
        if want == have:
            return
        with self._lock:
            if volume_id in self._load_registry():
                # the NBD export does not share 'resize' (QEMU 7.2): grow it
                # when no host uses it
                raise exception.VolumeBusy(volume_id=volume_id,
                                           reason='it is exported over NBD; extend it detached')
            self._qemu_img('resize', '-q', '-f', fmt, path, str(want))
        LOG.info('Volume %s extended to %d GiB', volume_id, new_size_gb)

    # -- snapshots ----------------------------------------------------------
    def create_snapshot(self, snapshot_id, volume_id):
        snap = self.snapshot_path(snapshot_id)
        src, src_fmt = self._get_volume(volume_id)
        if os.path.exists(snap):
            raise exception.BackendError(reason='snapshot %s exists' % snapshot_id)
        tmp = snap + '.part'
        try:
            self._qemu_img('convert', '-U', '-q', '-f', src_fmt, '-O', 'qcow2', src, tmp)
            os.rename(tmp, snap)
        except Exception:
            _unlink(tmp)
            raise
        LOG.info('Snapshot %s of volume %s created', snapshot_id, volume_id)

    def delete_snapshot(self, snapshot_id):
        snap = self.snapshot_path(snapshot_id)
        _unlink(snap)
        _unlink(snap + '.part')

    # -- connections --------------------------------------------------------
    def is_local(self, connector):
        if volume_opt('local_attach'):
            return True
        return bool(connector) and connector.get('host') == CONF.host

    def initialize_connection(self, volume_id, connector):
        path, fmt = self._get_volume(volume_id)
        connector = connector or {}
        if self.is_local(connector):
            with self._lock:
                if volume_id in self._load_registry():
                    raise exception.VolumeBusy(volume_id=volume_id,
                                               reason='it is exported over NBD')
            return {'driver_volume_type': 'file', 'data': {'path': path, 'format': fmt}}
        who = connector.get('host') or connector.get('ip') or '?'
        with self._lock:
            self._ensure_daemon()
            reg = self._load_registry()
            entry = reg.get(volume_id)
            if entry is None:
                self._export(volume_id, path, fmt)
                entry = reg[volume_id] = {'path': path, 'format': fmt, 'connectors': []}
            if who not in entry['connectors']:
                entry['connectors'].append(who)
            self._save_registry(reg)
        return {'driver_volume_type': 'nbd',
                'data': {'host': self.nbd_connect_host, 'port': self.nbd_port,
                         'name': volume_id, 'format': 'raw'}}

    def terminate_connection(self, volume_id, connector):
        base.check_id(volume_id, 'volume id')
        connector = connector or {}
        if self.is_local(connector):
            return
        who = connector.get('host') or connector.get('ip') or '?'
        with self._lock:
            reg = self._load_registry()
            entry = reg.get(volume_id)
            if entry is None:
                return
            if who in entry['connectors']:
                entry['connectors'].remove(who)
            if entry['connectors']:
                self._save_registry(reg)
                return
            self._unexport(volume_id)

    def list_exports(self):
        """{volume_id: {'path', 'format', 'connectors'}} this backend serves."""
        with self._lock:
            return self._load_registry()

    def daemon_exports(self):
        """Export names the running daemon really has (for checks)."""
        with QMP(self.qmp_path) as qmp:
            return sorted(e['id'] for e in qmp.execute('query-block-exports'))

    # -- stats --------------------------------------------------------------
    def get_stats(self):
        os.makedirs(self.volumes_dir, exist_ok=True)
        st = os.statvfs(self.volumes_dir)
        return {'total_gb': round(st.f_frsize * st.f_blocks / GiB, 2),
                'free_gb': round(st.f_frsize * st.f_bavail / GiB, 2)}

    # -- the exports daemon ---------------------------------------------------
    def start(self):
        os.makedirs(self.volumes_dir, exist_ok=True)
        with self._lock:
            if self._load_registry():
                self._ensure_daemon()

    def stop(self, keep_exports=True):
        """Stop the exports daemon, unless it still serves exports and
        ``keep_exports``: guests keep their disks while the volume service
        restarts (start() finds the daemon alive and leaves it be)."""
        with self._lock:
            pid = self.daemon_pid()
            if pid is None:
                return
            if keep_exports and self._load_registry():
                LOG.info('Leaving qemu-storage-daemon %d running for its %d export(s)', pid,
                         len(self._load_registry()))
                return
            try:
                with QMP(self.qmp_path, timeout=5) as qmp:
                    qmp.execute('quit')
            except QMPError as e:
                LOG.warning('Asking qemu-storage-daemon %d to quit failed (%s); '
                            'terminating it', pid, e)
                self.runner.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + DAEMON_STOP_TIMEOUT
            while self._pid_alive(pid):
                if time.monotonic() > deadline:
                    self.runner.kill(pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
            _unlink(self.pid_path)
            _unlink(self.qmp_path)
        LOG.info('Stopped qemu-storage-daemon %d', pid)

    def _pid_alive(self, pid):
        argv = self.runner.process_cmdline(pid)
        return bool(argv) and os.path.basename(argv[0]) == QSD and \
            any(self.qmp_path in a for a in argv)

    def daemon_pid(self):
        """The pid of our running daemon, or None."""
        try:
            with open(self.pid_path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if self._pid_alive(pid) else None

    def _daemon_alive(self):
        return self.daemon_pid() is not None

    def _ensure_daemon(self):
        """Start the daemon when it does not run; restore the exports the
        registry lists (caller holds the lock)."""
        if self._daemon_alive():
            return
        os.makedirs(self._nbd_dir(), exist_ok=True)
        _unlink(self.qmp_path)
        _unlink(self.pid_path)
        t0 = time.monotonic()
        self._run(QSD,
                  '--chardev', 'socket,id=qmp0,path=%s,server=on,wait=off' % self.qmp_path,
                  '--monitor', 'chardev=qmp0',
                  '--nbd-server', 'addr.type=inet,addr.host=%s,addr.port=%d'
                  % (self.nbd_host, self.nbd_port),
                  '--pidfile', self.pid_path, '--daemonize')
        pid = self.daemon_pid()
        if pid is None:
            raise exception.BackendError(reason='qemu-storage-daemon did not stay up')
        reg = self._load_registry()
        restored = []
        for volume_id, entry in sorted(reg.items()):
            if not os.path.exists(entry['path']):
                LOG.warning('Export of volume %s dropped: %s is gone', volume_id,
                            entry['path'])
                del reg[volume_id]
                continue
            self._export(volume_id, entry['path'], entry['format'])
            restored.append(volume_id)
        self._save_registry(reg)
        LOG.info('Started qemu-storage-daemon %d on %s:%d in %.2fs%s', pid, self.nbd_host,
                 self.nbd_port, time.monotonic() - t0,
                 ' (restored exports: %s)' % ', '.join(restored) if restored else '')

    def _export(self, volume_id, path, fmt):
        node = node_name(volume_id)
        file_opts = {'driver': 'file', 'filename': path, 'aio': 'threads',
                     'cache': {'direct': disk.supports_direct_io(os.path.dirname(path)),
                               'no-flush': False}}
        with QMP(self.qmp_path) as qmp:
            qmp.execute('blockdev-add', **{'driver': fmt, 'node-name': node,
                                           'file': file_opts})
            try:
                qmp.execute('block-export-add', **{'type': 'nbd', 'id': node,
                                                   'node-name': node, 'name': volume_id,
                                                   'writable': True})
            except QMPError:
                qmp.execute('blockdev-del', **{'node-name': node})
                raise
        LOG.info('Volume %s exported over NBD as %s', volume_id, volume_id)

    def _unexport(self, volume_id):
        """Remove the export and its node (caller holds the lock), and the
        registry entry."""
        reg = self._load_registry()
        if self._daemon_alive():
            node = node_name(volume_id)
            with QMP(self.qmp_path) as qmp:
                if any(e['id'] == node for e in qmp.execute('query-block-exports')):
                    qmp.execute('block-export-del', id=node, mode='hard')
                    deadline = time.monotonic() + EXPORT_GONE_TIMEOUT
                    while any(e['id'] == node for e in qmp.execute('query-block-exports')):
                        if time.monotonic() > deadline:
                            raise exception.BackendError(
                                reason='export of %s did not go away' % volume_id)
                        time.sleep(0.02)
                if any(n.get('node-name') == node
                       for n in qmp.execute('query-named-block-nodes', flat=True)):
                    qmp.execute('blockdev-del', **{'node-name': node})
        reg.pop(volume_id, None)
        self._save_registry(reg)
        LOG.info('Export of volume %s removed', volume_id)

    # -- registry -----------------------------------------------------------
    def _load_registry(self):
        try:
            with open(self.registry_path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError:
            LOG.warning('%s is unreadable; starting with no exports', self.registry_path)
            return {}
        return data if isinstance(data, dict) else {}

    def _save_registry(self, reg):
        os.makedirs(self._nbd_dir(), exist_ok=True)
        tmp = self.registry_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(reg, f, indent=1, sort_keys=True)
        os.replace(tmp, self.registry_path)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
