"""The file store: one file per image under [image] store_path.

Data is streamed, never held whole in memory: ``stage`` copies the request
stream chunk by chunk into a temporary file beside the final one, hashing
it (md5 for ``checksum``, sha512 for ``os_hash_value``) and counting its
bytes as it goes. The caller inspects the staged file and then either
commits it (an atomic rename to its final name) or discards it. A crash
leaves at worst a ``.*.part`` file, never a half-written image file.
"""

import hashlib
import os
import re
import tempfile

from oslo_log import log as logging

from common import exception
from common import spool
from common.conf import CONF
from imagestore import exception as img_exc

LOG = logging.getLogger(__name__)

CHUNK = 64 * 1024
HASH_ALGO = 'sha512'
_SAFE_ID = re.compile(r'^[0-9a-fA-F-]{1,64}$')


class Staged:
    """A fully received upload in a temporary file, with its size and hashes."""

    def __init__(self, store, image_id, path, size, checksum, os_hash_value):
        self.store = store
        self.image_id = image_id
        self.path = path
        self.size = size
        self.checksum = checksum
        self.os_hash_algo = HASH_ALGO
        self.os_hash_value = os_hash_value

    def commit(self):
        """Make the staged bytes the image's data (the store decides where)."""
        return self.store.commit(self)

    def discard(self):
        _unlink(self.path)


def get_store():
    """The store [image] store names."""
    if CONF.image.store == 'rbd':
        from imagestore import rbd_store  # only where Ceph is used
        return rbd_store.RBDStore()
    return FileStore()


class FileStore:
    def __init__(self, root=None):
        self.root = root or CONF.image.store_path

    def commit(self, staged):
        """Move the staged file to its final name."""
        final = self.path(staged.image_id)
        os.replace(staged.path, final)
        _fsync_dir(os.path.dirname(final))
        staged.path = final
        return final

    def location(self, image_id):
        """Where the data lives for other services (Glance's direct_url), or
        None when only this service reads it."""
        return None

    def check_deletable(self, image_id):
        """Raise Conflict when the data may not go (something depends on it)."""
        return None

    def _ensure_root(self):
        os.makedirs(self.root, mode=0o750, exist_ok=True)

    def path(self, image_id):
        if not _SAFE_ID.match(image_id or ''):
            raise exception.BadRequest('%r is not a valid image id.' % image_id)
        return os.path.join(self.root, image_id)

    def stage(self, image_id, stream, max_size):
        """Copy ``stream`` into a temporary file; return a Staged upload.

        Raises RequestEntityTooLarge past ``max_size`` bytes, BadRequest when
        the client's stream breaks, StoreError when the disk fails. On any
        failure the temporary file is gone.
        """
        self.path(image_id)  # checks the id
        try:
            self._ensure_root()
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix='.%s.' % image_id, suffix='.part')
        except OSError as e:
            raise _store_error('cannot create a file in the store', e) from None
        md5 = hashlib.md5(usedforsecurity=False)
        sha = hashlib.new(HASH_ALGO)
        size = 0
        try:
            # Unbuffered: a failed write leaves nothing for close() to retry
            # (a buffered file's close would raise ENOSPC again, over ours).
            with os.fdopen(fd, 'wb', buffering=0) as out:
                while True:
                    try:
                        chunk = stream.read(CHUNK)
                    except exception.AltostackError:
                        raise
                    except OSError as e:
                        if spool.is_disk_full(e):  # the body spooled beside the store
                            raise _store_error('receiving the image failed', e) from None
                        raise exception.BadRequest('Reading the image data failed: %s'
                                                   % e) from None
                    except Exception as e:  # noqa: BLE001 - the client's stream broke
                        raise exception.BadRequest('Reading the image data failed: %s'
                                                   % e) from None
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_size:
                        raise img_exc.RequestEntityTooLarge(
                            reason='The image is larger than the %d bytes this image '
                                   'service accepts.' % max_size)
                    md5.update(chunk)
                    sha.update(chunk)
                    try:
                        _write_all(out, chunk)
                    except OSError as e:
                        raise _store_error('writing the image failed', e) from None
                try:
                    os.fsync(out.fileno())
                except OSError as e:
                    raise _store_error('writing the image failed', e) from None
        except BaseException:
            _unlink(tmp)
            raise
        return Staged(self, image_id, tmp, size, md5.hexdigest(), sha.hexdigest())

    def open(self, image_id):
        """The image file opened for reading; StoreError if it is missing."""
        try:
            return open(self.path(image_id), 'rb')
        except FileNotFoundError:
            raise img_exc.StoreError(reason='the data of image %s is missing from the store'
                                     % image_id) from None

    def exists(self, image_id):
        return os.path.exists(self.path(image_id))

    def delete(self, image_id):
        _unlink(self.path(image_id))


def remove_leftovers(root, incoming):
    """At start-up: the staged files (``.*.part``) and spooled bodies of the
    uploads a killed image service left; this one has none yet."""
    gone = []
    for folder, match in ((root, lambda n: n.startswith('.') and n.endswith('.part')),
                          (incoming, lambda n: True)):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if match(name) and os.path.isfile(path):
                _unlink(path)
                gone.append(path)
    return gone


def _write_all(out, data):
    view = memoryview(data)
    while view:
        view = view[out.write(view):]


def _store_error(what, error):
    """StorageFull (413) for a full disk, else StoreError (503)."""
    if spool.is_disk_full(error):
        return img_exc.StorageFull(reason='%s: %s' % (what, error.strerror))
    return img_exc.StoreError(reason='%s: %s' % (what, error.strerror))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        LOG.warning('Could not remove %s', path, exc_info=True)


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
