"""The rbd backend: volumes are Ceph RBD images (Cinder's RBD driver's way).

In pool [volume] rbd_pool, as cephx user [volume] rbd_user:

    volume-<id>                 a volume (format 2, layering)
    volume-<id>@snapshot-<id>   a volume snapshot: an RBD snapshot
    clone of images/<image>@snap   a volume made from an image the image
                                service keeps in RBD on the same cluster
                                (raw, its location rbd://fsid/pool/image/snap):
                                copy-on-write, `rbd info` shows the parent
    clone of volume-<id>@snapshot-<id>   a volume made from a snapshot (the
                                snapshot is protected first); deleting the
                                snapshot flattens its clones before

Any other image is converted into a new RBD image with qemu-img (rbd:
URLs). Nothing is exported: every compute host opens the image itself
through librbd (QEMU), so connection_info is Nova/Cinder's 'rbd' shape and
terminate_connection has nothing to undo.
"""

import json
import threading

from oslo_log import log as logging

from blockstore import exception
from blockstore.backends import base
from common.conf import CONF
from common.host import cmd as hostcmd
from common.host import exception as host_exc
from common.host import rbd as rbd_mod

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3


def volume_name(volume_id):
    return 'volume-%s' % base.check_id(volume_id, 'volume id')


def snapshot_name(snapshot_id):
    return 'snapshot-%s' % base.check_id(snapshot_id, 'snapshot id')


class RBDBackend(base.VolumeBackend):
    connection_types = ('rbd',)

    def __init__(self, client=None, pool=None, runner=None):
        conf = CONF.volume
        self.pool = pool or conf.rbd_pool
        self._runner = runner or hostcmd.Runner(timeout=conf.command_timeout)
        self.client = client or rbd_mod.Client(conf.rbd_ceph_conf, conf.rbd_user,
                                               keyring=conf.rbd_keyring_conf,
                                               runner=self._runner)
        self._lock = threading.Lock()
        self._fsid = None
        self._monitors = None

    # -- the cluster ------------------------------------------------------------
    @property
    def fsid(self):
        if self._fsid is None:
            self._fsid = self.client.fsid()
        return self._fsid

    def monitors(self):
        if not self._monitors:
            self._monitors = self.client.monitors()
        return self._monitors

    def start(self):
        LOG.info('rbd backend: pool %s of cluster %s as client.%s', self.pool, self.fsid,
                 self.client.user)

    def _call(self, func, *args):
        try:
            return func(*args)
        except rbd_mod.ImageNotFound as e:
            raise exception.VolumeNotFound(str(e), volume_id=args[-1]) from e
        except host_exc.VirtError as e:
            raise exception.BackendError(reason=str(e)) from e

    def _grow(self, name, size_gb):
        have = self._call(self.client.info, self.pool, name)['size']
        if size_gb * GiB < have:
            raise exception.InvalidSize(reason='%d GiB is smaller than the source (%d bytes)'
                                        % (size_gb, have))
        if size_gb * GiB > have:
            self._call(self.client.resize, self.pool, name, size_gb * GiB)

    def _new(self, volume_id):
        name = volume_name(volume_id)
        if self.client.exists(self.pool, name):
            raise exception.VolumeExists(volume_id=volume_id)
        return name

    # -- volumes ----------------------------------------------------------------
    def create(self, volume_id, size_gb):
        size_gb = base.check_size(size_gb)
        self._call(self.client.create, self.pool, self._new(volume_id), size_gb * GiB)
        LOG.info('Volume %s created in RBD (%d GiB)', volume_id, size_gb)

    def _find_snapshot(self, snapshot_id):
        """The volume image holding snapshot-<id>, or None."""
        snap = snapshot_name(snapshot_id)
        for entry in self._call(self.client.listing, self.pool):
            if entry.get('snapshot') == snap:
                return entry['image']
        return None

    def create_from_snapshot(self, volume_id, snapshot_id, size_gb):
        size_gb = base.check_size(size_gb)
        name = self._new(volume_id)
        parent = self._find_snapshot(snapshot_id)
        if parent is None:
            raise exception.SnapshotNotFound('Snapshot %s is not on this backend.'
                                             % snapshot_id, snapshot_id=snapshot_id)
        snap = snapshot_name(snapshot_id)
        snaps = {s['name']: s for s in self._call(self.client.snap_list, self.pool, parent)}
        if str(snaps.get(snap, {}).get('protected')).lower() != 'true':
            self._call(self.client.snap_protect, self.pool, parent, snap)
        self._call(self.client.clone, self.pool, parent, snap, self.pool, name)
        self._grow_or_remove(name, size_gb)
        LOG.info('Volume %s cloned from snapshot %s', volume_id, snapshot_id)

    def create_from_volume(self, volume_id, source_volume_id, size_gb):
        size_gb = base.check_size(size_gb)
        name = self._new(volume_id)
        self._call(self.client.copy, self.pool, volume_name(source_volume_id), self.pool, name)
        self._grow_or_remove(name, size_gb)
        LOG.info('Volume %s copied from volume %s', volume_id, source_volume_id)

    def clone_image(self, volume_id, image, size_gb):
        """A copy-on-write clone of ``image`` (the image service's record for
        a download, with 'direct_url') when it is raw and lives in RBD on this
        cluster; False when it cannot be cloned (the caller then downloads)."""
        loc = rbd_mod.parse_url(image.get('direct_url'))
        if loc is None or image.get('disk_format') != 'raw':
            return False
        fsid, pool, img, snap = loc
        if fsid != self.fsid:
            LOG.info('Image %s is in another Ceph cluster (%s); copying it', image.get('id'),
                     fsid)
            return False
        size_gb = base.check_size(size_gb)
        name = self._new(volume_id)
        self._call(self.client.clone, pool, img, snap, self.pool, name)
        self._grow_or_remove(name, size_gb)
        LOG.info('Volume %s cloned from image %s (%s/%s@%s)', volume_id, image.get('id'),
                 pool, img, snap)
        return True

    def create_from_image(self, volume_id, image_path, size_gb, image_format=None):
        size_gb = base.check_size(size_gb)
        name = self._new(volume_id)
        info = self._qemu_img_info(image_path, image_format)
        if info.get('backing-filename') or info.get('full-backing-filename'):
            raise exception.BackendError(reason='image %s names a backing file; refused'
                                         % image_path)
        try:
            self._runner.run(['qemu-img', 'convert', '-q', '-f',
                              image_format or info['format'], '-O', 'raw', image_path,
                              self._qemu_url(name)])
        except host_exc.VirtError as e:
            self.client.remove(self.pool, name)
            raise exception.BackendError(reason=str(e)) from e
        self._grow_or_remove(name, size_gb)
        LOG.info('Volume %s made from image file %s', volume_id, image_path)

    def _qemu_img_info(self, path, fmt):
        args = ['qemu-img', 'info', '-U', '--output=json'] + (['-f', fmt] if fmt else [])
        try:
            return json.loads(self._runner.run(args + [path]).stdout)
        except host_exc.VirtError as e:
            raise exception.BackendError(reason=str(e)) from e

    def _qemu_url(self, name):
        conf = CONF.volume
        url = 'rbd:%s/%s:id=%s:conf=%s' % (self.pool, name, self.client.user,
                                          conf.rbd_ceph_conf)
        if conf.rbd_keyring_conf:
            url += ':keyring=%s' % conf.rbd_keyring_conf
        return url

    def _grow_or_remove(self, name, size_gb):
        try:
            self._grow(name, size_gb)
        except Exception:
            self.client.remove(self.pool, name)
            raise

    def delete(self, volume_id):
        name = volume_name(volume_id)
        try:
            snaps = self.client.snap_list(self.pool, name)
        except rbd_mod.ImageNotFound:
            LOG.info('Volume %s is not in RBD; nothing to delete', volume_id)
            return
        except host_exc.VirtError as e:
            raise exception.BackendError(reason=str(e)) from e
        for snap in snaps:
            self._remove_snapshot(name, snap['name'])
        self._call(self.client.remove, self.pool, name)
        LOG.info('Volume %s deleted from RBD', volume_id)

    def extend(self, volume_id, new_size_gb):
        new_size_gb = base.check_size(new_size_gb)
        name = volume_name(volume_id)
        have = self._call(self.client.info, self.pool, name)['size']
        if new_size_gb * GiB < have:
            raise exception.InvalidSize(reason='volumes never shrink (%d bytes now, %d GiB '
                                        'asked)' % (have, new_size_gb))
        if new_size_gb * GiB > have:
            self._call(self.client.resize, self.pool, name, new_size_gb * GiB)
        LOG.info('Volume %s extended to %d GiB', volume_id, new_size_gb)

    # -- snapshots --------------------------------------------------------------
    def create_snapshot(self, snapshot_id, volume_id):
        self._call(self.client.snap_create, self.pool, volume_name(volume_id),
                   snapshot_name(snapshot_id))
        LOG.info('Snapshot %s of volume %s created in RBD', snapshot_id, volume_id)

    def delete_snapshot(self, snapshot_id):
        image = self._find_snapshot(snapshot_id)
        if image is None:
            return
        self._remove_snapshot(image, snapshot_name(snapshot_id))

    def _remove_snapshot(self, image, snap):
        """Flatten the clones of the snapshot (volumes made from it keep
        their data), then remove it."""
        try:
            children = self.client.children(self.pool, image, snap)
        except host_exc.VirtError:
            children = []
        for child in children:
            LOG.info('Flattening %s/%s before its parent %s@%s goes', child['pool'],
                     child['image'], image, snap)
            self._call(self.client.flatten, child['pool'], child['image'])
        self._call(self.client.snap_remove, self.pool, image, snap)

    # -- connections --------------------------------------------------------------
    def initialize_connection(self, volume_id, connector):
        name = volume_name(volume_id)
        if not self.client.exists(self.pool, name):
            raise exception.VolumeNotFound('Volume %s is not on this backend.' % volume_id,
                                           volume_id=volume_id)
        mons = self._call(self.monitors)
        conf = CONF.volume
        return {'driver_volume_type': 'rbd',
                'data': {'name': '%s/%s' % (self.pool, name),
                         'hosts': [h for h, _ in mons],
                         'ports': [str(p) for _, p in mons],
                         'cluster_name': 'ceph',
                         'auth_enabled': True,
                         'auth_username': self.client.user,
                         'secret_type': 'ceph',
                         'secret_uuid': conf.rbd_secret_uuid,
                         'volume_id': volume_id,
                         'discard': True}}

    def terminate_connection(self, volume_id, connector):
        base.check_id(volume_id, 'volume id')

    # -- stats ------------------------------------------------------------------
    def get_stats(self):
        try:
            df = self.client.ceph('df', as_json=True)
        except host_exc.VirtError as e:
            raise exception.BackendError(reason=str(e)) from e
        for pool in df.get('pools', []):
            if pool.get('name') == self.pool:
                st = pool.get('stats', {})
                used, avail = st.get('bytes_used', 0), st.get('max_avail', 0)
                return {'total_gb': round((used + avail) / GiB, 2),
                        'free_gb': round(avail / GiB, 2)}
        return {'total_gb': 0.0, 'free_gb': 0.0}
