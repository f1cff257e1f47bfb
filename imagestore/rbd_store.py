"""The rbd store: image data in Ceph RBD, as Glance's rbd store keeps it.

An upload is staged and checked like the file store's (a file under
[image] store_path: hashes, qemu-img inspection), then imported as the RBD
image <pool>/<image id> with a protected snapshot 'snap', and the staged
file goes. The location is rbd://<fsid>/<pool>/<image id>/snap (Glance's
direct_url): a volume service on the same cluster clones raw images from
it copy-on-write. Downloads (compute hosts booting from the image, the
image API) read an export of the snapshot. An image that volumes were
cloned from cannot be deleted while they exist (409).
"""

import os
import tempfile

from oslo_log import log as logging

from common import exception
from common.conf import CONF
from common.host import cmd as hostcmd
from common.host import exception as host_exc
from common.host import rbd as rbd_mod
from imagestore import exception as img_exc
from imagestore import store as store_mod

LOG = logging.getLogger(__name__)
SNAP = 'snap'


class RBDStore(store_mod.FileStore):
    """Stages under store_path (FileStore), keeps the data in RBD."""

    _fsid = None

    def __init__(self, client=None):
        super().__init__()
        conf = CONF.image
        self.pool = conf.rbd_store_pool
        self.client = client or rbd_mod.Client(
            conf.rbd_store_ceph_conf, conf.rbd_store_user, keyring=conf.rbd_store_keyring,
            runner=hostcmd.Runner(timeout=max(600, conf.inspect_timeout)))

    def _name(self, image_id):
        self.path(image_id)  # checks the id
        return image_id

    def _fail(self, what, e):
        return img_exc.StoreError(reason='%s: %s' % (what, e))

    def commit(self, staged):
        name = self._name(staged.image_id)
        try:
            self.client.remove(self.pool, name)  # a failed earlier try
            self.client.import_file(staged.path, self.pool, name)
            self.client.snap_create(self.pool, name, SNAP, protect=True)
        except host_exc.VirtError as e:
            self._remove(name)
            raise self._fail('storing the image in RBD failed', e) from None
        finally:
            staged.discard()
        LOG.info('Image %s stored in RBD as %s/%s@%s', name, self.pool, name, SNAP)
        return self.location(staged.image_id)

    def location(self, image_id):
        if RBDStore._fsid is None:
            try:
                RBDStore._fsid = self.client.fsid()
            except host_exc.VirtError as e:
                LOG.warning('Cannot read the Ceph cluster fsid: %s', e)
                return None
        return 'rbd://%s/%s/%s/%s' % (RBDStore._fsid, self.pool, self._name(image_id), SNAP)

    def open(self, image_id):
        """An export of the image's snapshot in a temporary file, already
        unlinked: the handle is all that is left of it."""
        name = self._name(image_id)
        self._ensure_root()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix='.%s.' % name, suffix='.export')
        os.close(fd)
        os.unlink(tmp)  # rbd export writes a new file
        try:
            self.client.export_to(self.pool, name, SNAP, tmp)
            f = open(tmp, 'rb')
        except rbd_mod.ImageNotFound:
            raise img_exc.StoreError(reason='the data of image %s is missing from the store'
                                     % image_id) from None
        except host_exc.VirtError as e:
            raise self._fail('reading the image from RBD failed', e) from None
        finally:
            store_mod._unlink(tmp)
        return f

    def exists(self, image_id):
        return self.client.exists(self.pool, self._name(image_id))

    def check_deletable(self, image_id):
        name = self._name(image_id)
        try:
            children = self.client.children(self.pool, name, SNAP)
        except rbd_mod.ImageNotFound:
            return
        except host_exc.VirtError as e:
            raise self._fail('cannot tell whether volumes use image %s' % image_id, e) from None
        if children:
            raise exception.Conflict(
                reason='Image %s is in use by the store: %d volume(s) are clones of it'
                       % (image_id, len(children)))

    def delete(self, image_id):
        self._remove(self._name(image_id))

    def _remove(self, name):
        try:
            self.client.snap_remove(self.pool, name, SNAP)
            self.client.remove(self.pool, name)
        except host_exc.VirtError as e:
            LOG.warning('Could not remove image %s from RBD: %s', name, e)
