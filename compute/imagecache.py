"""The base image cache of one compute host: instances_path/_base/<image_id>.

A base is fetched once (per image lock; concurrent spawns wait for the
first download) through common.host.images, which streams it from the
pre-signed URL the image service hands out to a temporary file, verifies
it (size, os_hash_algo/os_hash_value, md5 checksum, format) and only then
renames it into place: a file at the final path is always a verified
image. Overlays reference their base by backing file, which is how we know
which bases are still used.

    cache = ImageCache()
    with cache.using(image) as base_path:      # fetched, pinned
        driver.spawn(ctx, instance, image, base_path, network_info)
    ...
    cache.cleanup_unused(active_image_ids)     # periodic
"""

import contextlib
import os
import threading
import time

from oslo_log import log as logging

from common.conf import CONF
from common.host import disk
from common.host import images
from compute.virt import locks

LOG = logging.getLogger(__name__)

PART_MARK = images.PART_MARK


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
        return os.path.join(self.base_dir, images.check_id(image_id))

    # -- fetching -----------------------------------------------------------
    def fetch(self, image):
        """Path of the verified base of ``image``, downloaded if missing
        (common.host.images verifies it)."""
        image_id = images.check_id(image.get('id'))
        images.check_disk_format(image)
        path = self.path_for(image_id)
        with self._locks(image_id):
            if os.path.exists(path):
                os.utime(path)  # last used now: keeps it from cleanup
                return path
            os.makedirs(self.base_dir, exist_ok=True)
            t0 = time.monotonic()
            size = images.download(image, path, self.timeout)
            LOG.info('Image %s fetched into the cache (%d bytes, %.2fs)', image_id, size,
                     time.monotonic() - t0)
        return path

    @contextlib.contextmanager
    def using(self, image):
        """fetch() and keep the base from cleanup until the block ends."""
        image_id = images.check_id(image.get('id'))
        with self._pins_lock:
            self._pins[image_id] = self._pins.get(image_id, 0) + 1
        try:
            yield self.fetch(image)
        finally:
            with self._pins_lock:
                self._pins[image_id] -= 1
                if not self._pins[image_id]:
                    del self._pins[image_id]

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
                          if not n.startswith('.') and images.SAFE_ID.match(n))
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
