"""Cold moves of a guest between hosts that share no storage (libvirt).

The source exports the stopped guest's root disk read-only over NBD on its
own address (qemu-nbd, one process per move, bounded by a timeout, its pid
kept in the instance dir so a restarted agent can end it); the destination
copies it into its own instance dir as a standalone qcow2 (no backing file:
the destination may not have the base image cached), grows it to the new
flavor and spawns the guest around it: a new config drive, its NICs and
volumes, the same domain shape as a build.
"""

import os
import signal
import socket
import subprocess
import time

from oslo_log import log as logging

from common.host import disk
from compute.virt import exception

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
DISK = 'disk'
EXPORT_PIDFILE = 'disk.nbd.pid'
EXPORT_LOG = 'disk.nbd.log'
EXPORT_READY_TIMEOUT = 15.0


def _free_port(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _listening(address, port):
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def _is_export(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return b'qemu-nbd' in f.read()
    except OSError:
        return False


class ColdMoves:
    """Mixed into LibvirtDriver (uses instance_dir and spawn)."""

    _exports = None  # uuid -> Popen of this agent's exports

    def export_root_disk(self, instance, address, timeout):
        """Serve the (stopped) guest's root disk read-only at
        nbd://address:port for at most ``timeout`` seconds; its URL, or
        None when the server has no local root disk (boot from volume)."""
        uuid = instance['uuid']
        inst_dir = self.instance_dir(uuid)
        path = os.path.join(inst_dir, DISK)
        if not os.path.exists(path):
            return None
        self.end_export(instance)  # one left by a move cut short
        fmt = 'qcow2' if disk.read_qcow2_header(path) else 'raw'
        port = _free_port(address)
        with open(os.path.join(inst_dir, EXPORT_LOG), 'ab') as log:
            proc = subprocess.Popen(
                ['timeout', str(int(timeout)), 'qemu-nbd', '--read-only', '--persistent',
                 '--shared=2', '--format', fmt, '--bind', address, '--port', str(port),
                 path], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if self._exports is None:
            self._exports = {}
        self._exports[uuid] = proc
        deadline = time.monotonic() + EXPORT_READY_TIMEOUT
        while not _listening(address, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.end_export(instance)
                raise exception.VirtError(reason='the NBD export of %s did not start (see %s)'
                                          % (uuid, os.path.join(inst_dir, EXPORT_LOG)))
            time.sleep(0.1)
        # the pid that holds the disk open: qemu-nbd, child of timeout
        with open(os.path.join(inst_dir, EXPORT_PIDFILE), 'w') as f:
            f.write(str(proc.pid))
        LOG.info('Exporting the root disk of %s at nbd://%s:%d', uuid, address, port)
        return 'nbd://%s:%d' % (address, port)

    def end_export(self, instance):
        """Stop the NBD export of the guest's disk (one this agent started,
        or one a previous run of it left). Idempotent."""
        uuid = instance['uuid']
        pidfile = os.path.join(self.instance_dir(uuid), EXPORT_PIDFILE)
        proc = (self._exports or {}).pop(uuid, None)
        if proc is not None:
            proc.terminate()  # timeout passes SIGTERM on to qemu-nbd
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        else:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _is_export(pid):  # not a pid reused by something else
                try:
                    os.killpg(pid, signal.SIGTERM)
                except OSError:
                    pass
                for _ in range(50):
                    if not any(_is_export(p) for p in _group(pid)):
                        break
                    time.sleep(0.1)
                else:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except OSError:
                        pass
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass

    def spawn_migrated(self, context, instance, disk_url, network_info,
                       block_device_info=None, power_on=True, timeout=1800):
        """Create the guest of ``instance`` (its new flavor) here from the
        root disk at ``disk_url`` (None: it boots from its volume), started
        when ``power_on``. On failure nothing is left behind."""
        root_volume, _others = self._volume_mapping(block_device_info)
        if disk_url is None and root_volume is None:
            raise exception.NotSupported(what='a move without a root disk or root volume')
        root_gb = int(instance['flavor'].get('root_gb') or 0)

        def make_root(path):
            t0 = time.monotonic()
            disk.copy_from_nbd(disk_url, path, timeout=timeout)
            if root_gb:
                disk.grow(path, root_gb * GiB)
            LOG.info('Copied the root disk of %s from %s in %.1fs', instance['uuid'],
                     disk_url, time.monotonic() - t0)

        # The disk it brings is a qcow2 made here; no base image is used.
        image_meta = {'id': instance.get('image_ref'), 'disk_format': 'qcow2'}
        self.spawn(context, instance, image_meta, None, network_info, block_device_info,
                   make_root=make_root if disk_url else None, power_on=power_on)


def _group(pgid):
    """pids of process group ``pgid`` (to see whether an export still runs)."""
    out = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                if int(fields[2]) == pgid:
                    out.append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    return out
