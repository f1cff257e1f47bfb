"""The base image cache of one compute host: instances_path/_base/<image_id>.

A base is fetched once (per image lock; concurrent spawns wait for the
first download), streamed from the pre-signed URL the image service hands
out to a temporary file, verified (size, os_hash_algo/os_hash_value,
md5 checksum, format) and only then renamed into place: a file at the
final path is always a verified image. Overlays reference their base by
backing file, which is how we know which bases are still used.

    cache = ImageCache()
    with cache.using(image) as base_path:      # fetched, pinned
        driver.spawn(ctx, instance, image, base_path, network_info)
    ...
    cache.cleanup_unused(active_image_ids)     # periodic
"""

import contextlib
import hashlib
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from oslo_log import log as logging

from common.conf import CONF
from compute.virt import disk
from compute.virt import exception
from compute.virt import locks

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
PART_MARK = '.part-'
_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$')
HASH_ALGOS = ('sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_384', 'sha3_512', 'md5')


def _check_id(image_id):
    if not isinstance(image_id, str) or not _SAFE_ID.match(image_id) or '..' in image_id:
        raise exception.ImageUnacceptable(image_id=image_id, reason='unsafe image id')
    return image_id


class ImageCache:
    def __init__(self, instances_path=None, subdir=None, min_age=None, enabled=None,
                 timeout=None):
        ccfg = CONF.compute
        self.instances_path = instances_path or ccfg.instances_path
        self.base_dir = os.path.join(self.instances_path, subdir or ccfg.image_cache_subdir)
        self.min_age = (ccfg.remove_unused_original_minimum_age_seconds
                        if min_age is None else min_age)
        self.enabled = ccfg.remove_unused_base_images if enabled is None else enabled
        self.timeout = timeout or ccfg.image_download_timeout
        self._locks = locks.KeyedLocks()
        self._pins_lock = threading.Lock()
        self._pins = {}

    def path_for(self, image_id):
        return os.path.join(self.base_dir, _check_id(image_id))

    # -- fetching -----------------------------------------------------------
    def fetch(self, image):
        """Path of the verified base of ``image``, downloaded if missing."""
        image_id = _check_id(image.get('id'))
        fmt = image.get('disk_format')
        if fmt not in disk.SUPPORTED_BASE_FORMATS:
            raise exception.ImageUnacceptable(
                image_id=image_id, reason='disk format %s is not supported (only %s)'
                % (fmt, ', '.join(disk.SUPPORTED_BASE_FORMATS)))
        path = self.path_for(image_id)
        with self._locks(image_id):
            if os.path.exists(path):
                os.utime(path)  # last used now: keeps it from cleanup
                return path
            os.makedirs(self.base_dir, exist_ok=True)
            t0 = time.monotonic()
            size = self._download(image, path)
            LOG.info('Image %s fetched into the cache (%d bytes, %.2fs)', image_id, size,
                     time.monotonic() - t0)
        return path

    @contextlib.contextmanager
    def using(self, image):
        """fetch() and keep the base from cleanup until the block ends."""
        image_id = _check_id(image.get('id'))
        with self._pins_lock:
            self._pins[image_id] = self._pins.get(image_id, 0) + 1
        try:
            yield self.fetch(image)
        finally:
            with self._pins_lock:
                self._pins[image_id] -= 1
                if not self._pins[image_id]:
                    del self._pins[image_id]

    def _hashers(self, image):
        image_id = image['id']
        hashers = []
        algo, value = image.get('os_hash_algo'), image.get('os_hash_value')
        if algo and value:
            if algo not in HASH_ALGOS:
                raise exception.ImageUnacceptable(image_id=image_id,
                                                  reason='unknown hash algorithm %s' % algo)
            hashers.append((algo, hashlib.new(algo), value))
        if image.get('checksum') and algo != 'md5':
            hashers.append(('md5', hashlib.md5(usedforsecurity=False), image['checksum']))
        if not hashers:
            LOG.warning('Image %s has no checksum; it is cached unverified', image_id)
        return hashers

    def _download(self, image, path):
        image_id = image['id']
        url = image.get('url')
        if not url or urllib.parse.urlsplit(url).scheme not in ('http', 'https'):
            raise exception.ImageDownloadFailed(image_id=image_id,
                                                reason='no http(s) URL to fetch it from')
        hashers = self._hashers(image)
        fd, tmp = tempfile.mkstemp(dir=self.base_dir, prefix='.%s%s' % (image_id, PART_MARK))
        try:
            size = 0
            with os.fdopen(fd, 'wb') as out:
                try:
                    with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                        while True:
                            chunk = resp.read(CHUNK)
                            if not chunk:
                                break
                            out.write(chunk)
                            size += len(chunk)
                            for _name, h, _expected in hashers:
                                h.update(chunk)
                except (urllib.error.URLError, OSError) as e:
                    raise exception.ImageDownloadFailed(image_id=image_id,
                                                        reason=str(e)) from e
                out.flush()
                os.fsync(out.fileno())
            if image.get('size') is not None and int(image['size']) != size:
                raise exception.ImageDownloadFailed(
                    image_id=image_id, reason='got %d bytes, expected %s' % (size, image['size']))
            for name, h, expected in hashers:
                if h.hexdigest() != expected.lower():
                    raise exception.ImageChecksumMismatch(image_id=image_id, algo=name,
                                                          actual=h.hexdigest(),
                                                          expected=expected)
            self._check_format(image, tmp)
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
            return size
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def _check_format(self, image, path):
        """The bits must be what the record says; a qcow2 base must stand
        alone (no backing or external data file that could name host files)."""
        fmt = image['disk_format']
        try:
            info = disk.image_info(path, fmt)
        except exception.VirtError as e:
            raise exception.ImageUnacceptable(image_id=image['id'], reason=e.message) from e
        if fmt == 'qcow2':
            data = (info.get('format-specific') or {}).get('data') or {}
            if info.get('backing-filename') or data.get('data-file'):
                raise exception.ImageUnacceptable(
                    image_id=image['id'], reason='qcow2 image has a backing or data file')

    # -- which bases are used, and cleaning up ------------------------------
    def instance_dirs(self):
        try:
            names = os.listdir(self.instances_path)
        except FileNotFoundError:
            return []
        base = os.path.basename(self.base_dir)
        return [os.path.join(self.instances_path, n) for n in sorted(names)
                if n != base and not n.startswith('.')
                and os.path.isdir(os.path.join(self.instances_path, n))]

    def used_base_images(self, instance_dirs=None):
        """{image_id: [instance dir, ...]} of the bases the qcow2 files in
        ``instance_dirs`` (default: every instance folder) are backed by."""
        used = {}
        base_dir = os.path.realpath(self.base_dir)
        for inst_dir in self.instance_dirs() if instance_dirs is None else instance_dirs:
            try:
                names = os.listdir(inst_dir)
            except FileNotFoundError:
                continue
            for name in names:
                header = disk.read_qcow2_header(os.path.join(inst_dir, name))
                backing = header and header['backing_file']
                if not backing:
                    continue
                backing = os.path.realpath(os.path.join(inst_dir, backing))
                if os.path.dirname(backing) == base_dir:
                    used.setdefault(os.path.basename(backing), []).append(inst_dir)
        return used

    def cached_image_ids(self):
        try:
            return sorted(n for n in os.listdir(self.base_dir)
                          if not n.startswith('.') and _SAFE_ID.match(n))
        except FileNotFoundError:
            return []

    def cleanup_unused(self, active_image_ids=()):
        """Remove bases no overlay uses, not in ``active_image_ids`` (images
        the manager is about to use), not pinned, and not used or fetched for
        [compute] remove_unused_original_minimum_age_seconds. Also removes
        stale partial downloads. Returns the removed image ids."""
        if not self.enabled:
            return []
        keep = set(active_image_ids or ()) | set(self.used_base_images())
        removed = []
        now = time.time()
        for image_id in self.cached_image_ids():
            if image_id in keep:
                continue
            with self._locks(image_id):
                with self._pins_lock:
                    if image_id in self._pins:
                        continue
                path = self.path_for(image_id)
                try:
                    age = now - os.stat(path).st_mtime
                except FileNotFoundError:
                    continue
                if age < self.min_age:
                    continue
                # An overlay may have appeared while we were looking.
                if image_id in self.used_base_images():
                    continue
                os.unlink(path)
                removed.append(image_id)
                LOG.info('Removed unused base image %s (unused for %ds)', image_id, age)
        self._remove_stale_parts(now)
        return removed

    def _remove_stale_parts(self, now):
        try:
            names = os.listdir(self.base_dir)
        except FileNotFoundError:
            return
        for name in names:
            if PART_MARK not in name:
                continue
            path = os.path.join(self.base_dir, name)
            try:
                if now - os.stat(path).st_mtime > max(self.min_age, 3600):
                    os.unlink(path)
            except FileNotFoundError:
                pass
