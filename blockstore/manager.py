"""Volume service RPC endpoints: the storage work behind the volume API.

Each endpoint takes the row's dict as the API sent it, asks the backend
(blockstore.backends, [volume] backend) and finishes the row's transition
with a compare-and-set on the status it expects: success makes it
available, a failure error / error_deleting / error_extending. No failure
leaves a volume creating, deleting or extending; what a dead service left
in transit is finished by init_host() when it comes back and by the
periodic reconcile() on any volume service.
"""

import os
import tempfile

import oslo_messaging as messaging
from oslo_log import log as logging

from blockstore import attachments
from blockstore import exception
from blockstore import messages
from blockstore import snapshots
from blockstore import volumes
from common import periodic
from common.conf import CONF
from common.context import get_admin_context
from common.host import images

LOG = logging.getLogger(__name__)


def _load_backend():
    from blockstore import backends  # written alongside; imported when first needed
    return backends.load_backend(CONF.volume.backend)


class VolumeManager:
    target = messaging.Target(version='1.2')

    def __init__(self, backend=None, image_api=None):
        self._backend = backend
        self._image_api = image_api

    @property
    def backend(self):
        if self._backend is None:
            self._backend = _load_backend()
        return self._backend

    # -- life cycle ------------------------------------------------------------
    def init_host(self):
        """Start the exports and settle what this host left in transit."""
        try:
            self.backend.start()
        except Exception:
            LOG.exception('The volume backend did not start')
        for vol in volumes.volumes_of_host(CONF.host, [volumes.CREATING, volumes.DELETING,
                                                       volumes.EXTENDING]):
            self._settle(vol)

    def cleanup_host(self):
        if self._backend is not None:
            self._backend.stop()

    def _settle(self, vol):
        """A volume found in transit (the work that moved it is lost)."""
        if vol['status'] == volumes.CREATING:
            volumes.set_status(vol['id'], volumes.ERROR, expected=[volumes.CREATING])
        elif vol['status'] == volumes.DELETING:
            self.delete_volume(get_admin_context(), vol)
        elif vol['status'] == volumes.EXTENDING:
            volumes.finish_extend(vol['id'], vol['size'], ok=False)
        LOG.warning('Volume %s was left %s; settled', vol['id'], vol['status'])

    @periodic.periodic(lambda: CONF.volume.reconcile_interval)
    def reconcile(self, context=None):
        """Volumes and snapshots stuck past [volume] stuck_timeout: failed;
        attachments of servers that are gone: released."""
        timeout = CONF.volume.stuck_timeout
        for vol in volumes.stuck([volumes.CREATING, volumes.DELETING, volumes.EXTENDING], timeout):
            if vol['host'] in (None, CONF.host):
                self._settle(vol)
        for orphan in attachments.orphan_attachments(timeout):
            # Its server is gone and its agent could not say so.
            LOG.warning('Volume %s is still held by deleted server %s; releasing it',
                        orphan['volume']['id'], orphan['instance_uuid'])
            self.release_attachment(get_admin_context(), orphan['volume'],
                                    orphan['attachment_id'], None,
                                    delete_volume=orphan['delete_on_termination'])
        for snap in snapshots.stuck_snapshots([volumes.CREATING, volumes.DELETING], timeout):
            if snap['status'] == volumes.CREATING:
                snapshots.snapshot_set_status(snap['id'], volumes.ERROR,
                                              expected=[volumes.CREATING])
            else:
                snapshots.snapshot_set_status(snap['id'], 'error_deleting',
                                              expected=[volumes.DELETING])

    def ping(self, context):
        return {'service': 'volume', 'host': CONF.host}

    # -- volumes ---------------------------------------------------------------
    def create_volume(self, context, volume):
        vid, size = volume['id'], volume['size']
        if volumes.set_status(vid, volumes.CREATING, expected=[volumes.CREATING],
                              host=CONF.host) is None:
            LOG.info('Volume %s is no longer creating; nothing to do', vid)
            return
        extra = {}
        try:
            if volume.get('snapshot_id'):
                self.backend.create_from_snapshot(vid, volume['snapshot_id'], size)
            elif volume.get('source_volid'):
                self.backend.create_from_volume(vid, volume['source_volid'], size)
            elif volume.get('image_id'):
                self._create_from_image(context, volume)
                extra['bootable'] = True
            else:
                self.backend.create(vid, size)
        except Exception as e:  # noqa: BLE001 - any failure: error, and the user told why
            LOG.exception('Volume %s could not be created', vid)
            if volumes.set_status(vid, volumes.ERROR, expected=[volumes.CREATING]):
                messages.record(context, volume.get('project_id'), vid,
                                'create_from_image' if volume.get('image_id') else 'create',
                                e)
            return
        if volumes.finish_create(vid, **extra) is None:
            LOG.warning('Volume %s changed while it was made', vid)

    def _image_rpc(self):
        if self._image_api is None:
            from imagestore import rpcapi as image_rpcapi
            self._image_api = image_rpcapi.ImageAPI()
        return self._image_api

    def _create_from_image(self, context, volume):
        """A clone when the backend can make one from where the image lives;
        else download the image (verified: common.host.images) into a
        temporary folder under the volumes folder, then hand it over."""
        image = self._image_rpc().get_image_for_download(context, volume['image_id'])
        if self.backend.clone_image(volume['id'], image, volume['size']):
            return
        root = CONF.volume.volumes_dir
        os.makedirs(root, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix='image-') as tmp:
            path = os.path.join(tmp, images.check_id(image.get('id')))
            images.download(image, path, CONF.compute.image_download_timeout)
            self.backend.create_from_image(volume['id'], path, volume['size'])

    def delete_volume(self, context, volume):
        vid = volume['id']
        try:
            self.backend.delete(vid)
        except Exception:
            LOG.exception('Volume %s could not be deleted', vid)
            volumes.set_status(vid, volumes.ERROR_DELETING, expected=[volumes.DELETING])
            return
        volumes.finish_delete(vid)

    def extend_volume(self, context, volume, new_size):
        vid = volume['id']
        try:
            self.backend.extend(vid, new_size)
        except Exception as e:  # noqa: BLE001
            LOG.exception('Volume %s could not be extended to %sG', vid, new_size)
            volumes.finish_extend(vid, new_size, ok=False)
            messages.record(context, volume.get('project_id'), vid, 'extend', e)
            return
        volumes.finish_extend(vid, new_size)

    # -- snapshots -------------------------------------------------------------
    def create_snapshot(self, context, snapshot):
        sid = snapshot['id']
        try:
            self.backend.create_snapshot(sid, snapshot['volume_id'])
        except Exception:
            LOG.exception('Snapshot %s could not be created', sid)
            snapshots.snapshot_set_status(sid, volumes.ERROR, expected=[volumes.CREATING])
            return
        snapshots.snapshot_set_status(sid, volumes.AVAILABLE, expected=[volumes.CREATING])

    def delete_snapshot(self, context, snapshot):
        sid = snapshot['id']
        try:
            self.backend.delete_snapshot(sid)
        except Exception:
            LOG.exception('Snapshot %s could not be deleted', sid)
            snapshots.snapshot_set_status(sid, 'error_deleting', expected=[volumes.DELETING])
            return
        snapshots.snapshot_finish_delete(sid)

    # -- exports (calls) -------------------------------------------------------
    def initialize_connection(self, context, volume, connector):
        return self.backend.initialize_connection(volume['id'], connector)

    def terminate_connection(self, context, volume, connector):
        self.backend.terminate_connection(volume['id'], connector)

    # -- the attach flow (calls from compute agents) ---------------------------
    # The agents hold no database credentials: they report each step of an
    # attach or detach here, and the volume records follow.
    def get_volume(self, context, volume_id):
        try:
            return volumes.get(volume_id)
        except exception.VolumeNotFound:
            return None

    def attach_complete(self, context, volume, attachment_id, host_name, device):
        """The guest has the disk: the attachment is 'attached', the volume
        in-use. None when the attachment is gone (the agent then unplugs)."""
        try:
            return attachments.attach_complete(attachment_id, host_name, device)
        except exception.AttachmentNotFound:
            LOG.warning('Attachment %s of volume %s is gone; not completing it',
                        attachment_id, volume['id'])
            return None

    def release_attachment(self, context, volume, attachment_id, connector,
                           delete_volume=False):
        """The guest no longer has the disk (detached, failed to attach, or
        its server deleted): drop the export for ``connector``, forget the
        attachment (the volume becomes available) and, with
        ``delete_volume`` (delete_on_termination), delete the volume."""
        try:
            self.backend.terminate_connection(volume['id'], connector)
        except Exception:  # noqa: BLE001 - the records must still move on
            LOG.exception('Could not end the connection of volume %s', volume['id'])
        vol = attachments.detach_complete(attachment_id)
        if delete_volume and vol is not None:
            vol = volumes.set_status(volume['id'], volumes.DELETING, expected=[volumes.AVAILABLE])
            if vol is not None:
                self.delete_volume(context, vol)
        return vol

    def roll_detaching(self, context, volume):
        """A detach that failed: the volume is in-use again."""
        return attachments.roll_detaching(volume['id'])
