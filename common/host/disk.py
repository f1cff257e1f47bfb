"""Disk files: qemu-img calls and a qcow2 header reader.

Formats are always given explicitly (never probed): a raw image whose bytes
look like qcow2 must not be able to name a backing file on the host.
"""

import errno
import json
import os
import struct
import subprocess

from oslo_log import log as logging

from common.host import exception

LOG = logging.getLogger(__name__)

QCOW2_MAGIC = b'QFI\xfb'
SUPPORTED_BASE_FORMATS = ('qcow2', 'raw')
QEMU_IMG_TIMEOUT = 120


def _qemu_img(*args, timeout=QEMU_IMG_TIMEOUT):
    cmd = ['qemu-img', *args]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise exception.VirtError(reason='%s: %s' % (' '.join(cmd[:2]), e)) from e
    if res.returncode:
        raise exception.VirtError(reason='qemu-img %s failed: %s' % (
            args[0], res.stderr.strip() or res.stdout.strip()))
    return res.stdout


def image_info(path, fmt):
    """qemu-img info of ``path`` read as ``fmt`` (a dict; -U: works on open files)."""
    return json.loads(_qemu_img('info', '-U', '-f', fmt, '--output=json', path))


def create_overlay(base_path, base_format, path, size_bytes=None):
    """A qcow2 at ``path`` backed by ``base_path``; ``size_bytes`` None keeps
    the base's virtual size."""
    if base_format not in SUPPORTED_BASE_FORMATS:
        raise exception.NotSupported(what='base image format %s' % base_format)
    args = ['create', '-q', '-f', 'qcow2', '-b', base_path, '-F', base_format, path]
    if size_bytes is not None:
        args.append(str(int(size_bytes)))
    _qemu_img(*args)


def flatten_to_qcow2(src_path, src_format, dest_path, timeout=QEMU_IMG_TIMEOUT):
    """A standalone qcow2 at ``dest_path`` with what ``src_path`` (and its
    backing chain, whose formats the overlays name) shows a guest. The
    source must not be open for writing (a stopped guest's disk)."""
    if src_format not in SUPPORTED_BASE_FORMATS:
        raise exception.NotSupported(what='disk format %s' % src_format)
    _qemu_img('convert', '-q', '-f', src_format, '-O', 'qcow2', src_path, dest_path,
              timeout=timeout)


def read_qcow2_header(path):
    """{'virtual_size', 'backing_file'} of a qcow2 file, or None if ``path``
    is not qcow2. Reads 4 KiB, runs no process; safe while a guest runs."""
    try:
        with open(path, 'rb') as f:
            head = f.read(32)
            if len(head) < 32 or head[:4] != QCOW2_MAGIC:
                return None
            backing_off, backing_len = struct.unpack('>QI', head[8:20])
            (size,) = struct.unpack('>Q', head[24:32])
            backing = None
            if backing_off and 0 < backing_len <= 1023:
                f.seek(backing_off)
                backing = f.read(backing_len).decode('utf-8', 'replace')
    except FileNotFoundError:
        return None
    return {'virtual_size': size, 'backing_file': backing}


def allocated_bytes(path):
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


def supports_direct_io(dirpath):
    """True if files in ``dirpath`` can be opened with O_DIRECT (so a disk can
    use cache='none'; tmpfs cannot)."""
    if not hasattr(os, 'O_DIRECT'):
        return False
    probe = os.path.join(dirpath, '.directio.test')
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o600)
        os.close(fd)
        return True
    except OSError as e:
        if e.errno != errno.EINVAL:
            LOG.debug('O_DIRECT probe in %s failed: %s', dirpath, e)
        return False
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass


def copy_from_nbd(url, dest_path, timeout=QEMU_IMG_TIMEOUT):
    """A standalone qcow2 at ``dest_path`` with what the NBD export at
    ``url`` (nbd://host:port, a guest's view: raw) holds; zeroes stay
    holes."""
    if not url.startswith('nbd://'):
        raise exception.NotSupported(what='disk source %s' % url)
    _qemu_img('convert', '-q', '-f', 'raw', '-O', 'qcow2', url, dest_path, timeout=timeout)


def grow(path, size_bytes):
    """Grow the qcow2 disk at ``path`` to ``size_bytes`` (virtual); a disk
    that is as big or bigger already is left as it is: never shrinks.
    Returns True when it grew. The guest must be off."""
    head = read_qcow2_header(path)
    if head is None:
        raise exception.NotSupported(what='growing a disk that is not qcow2 (%s)' % path)
    if head['virtual_size'] >= size_bytes:
        return False
    _qemu_img('resize', '-f', 'qcow2', path, str(int(size_bytes)))
    return True
