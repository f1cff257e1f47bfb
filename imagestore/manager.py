"""Image service RPC endpoints (topic ``image``).

Compute agents hold no database credentials and no user token: they ask
here for what they need and get signed URLs on this service's HTTP port
for the bytes.
"""

import io
import os

import oslo_messaging as messaging
from oslo_log import log as logging

from common import context as ctx_mod
from common import exception
from common import periodic
from common.conf import CONF
from imagestore import data
from imagestore import images
from imagestore import signing
from imagestore import states
from imagestore import store as store_mod

LOG = logging.getLogger(__name__)
# Base attributes a snapshot may set through ``properties``.
_SNAPSHOT_BASE = ('disk_format', 'container_format', 'min_disk', 'min_ram', 'visibility',
                  'protected', 'os_hidden', 'tags')


def _summary(rec):
    return {
        'id': rec['id'], 'name': rec['name'], 'status': rec['status'],
        'visibility': rec['visibility'], 'owner': rec['owner'],
        'disk_format': rec['disk_format'], 'container_format': rec['container_format'],
        'size': rec['size'], 'virtual_size': rec['virtual_size'],
        'checksum': rec['checksum'], 'os_hash_algo': rec['os_hash_algo'],
        'os_hash_value': rec['os_hash_value'], 'min_disk': rec['min_disk'],
        'min_ram': rec['min_ram'], 'protected': rec['protected'],
        'properties': dict(rec['properties']), 'tags': list(rec['tags']),
        'created_at': images.to_iso(rec['created_at']),
        'updated_at': images.to_iso(rec['updated_at']),
    }


class ImageManager:
    target = messaging.Target(version='1.3')

    def ping(self, context):
        return {'service': 'image', 'host': CONF.host}

    def init_host(self):
        for path in store_mod.remove_leftovers(CONF.image.store_path, os.path.join(
                CONF.image.store_path, '.incoming')):
            LOG.info('Removed %s, left by an upload this service did not finish', path)

    @periodic.periodic(lambda: CONF.image.upload_lease / 4)
    def give_up_lapsed_uploads(self):
        return data.give_up_lapsed()

    def get_image_for_download(self, context, image_id):
        """What a compute host needs to fetch an active image the context can see.

        ``url`` serves the bytes without a token until it expires
        ([image] signed_url_ttl seconds).
        """
        rec = images.get(context, image_id)
        if rec['status'] != states.ACTIVE:
            raise states.InvalidImageStatus(image_id=image_id, status=rec['status'],
                                            why='only an active image can be downloaded')
        out = {k: v for k, v in _summary(rec).items() if k in (
            'id', 'disk_format', 'size', 'checksum', 'os_hash_algo', 'os_hash_value',
            'min_disk', 'min_ram', 'properties', 'status', 'virtual_size', 'name')}
        out['url'] = signing.sign_url('GET', image_id, CONF.image.signed_url_ttl)
        location = store_mod.get_store().location(image_id)
        if location:
            # Glance's direct_url: a volume service on the same Ceph cluster
            # clones the image instead of downloading it.
            out['direct_url'] = location
        return out

    def create_snapshot_image(self, context, name, owner, properties, empty=False):
        """A queued image owned by ``owner`` and a signed URL to PUT its data to.

        ``properties`` are additional properties (strings), plus any of
        disk_format (default qcow2), container_format (default bare),
        min_disk, min_ram, visibility (default private), protected,
        os_hidden and tags. The upload follows the same path as a user's
        (hashes, format check, active); ``upload_url`` stays valid for
        [image] signed_upload_ttl seconds.

        ``empty`` asks for an image with no data of its
        own (a snapshot of a server booted from a volume: the bytes are in
        volume snapshots that its block_device_mapping property names). It
        is raw and active at once, its data zero bytes, as Nova makes it in
        Glance by uploading empty data.
        """
        properties = dict(properties or {})
        values = {'name': name, 'disk_format': 'qcow2', 'container_format': 'bare',
                  'visibility': 'private'}
        if empty:
            properties['disk_format'] = 'raw'
        for key, value in properties.items():
            if key in _SNAPSHOT_BASE:
                values[key] = value
            elif value is not None:
                values[key] = str(value)
        rec = images.create(context, values, owner=owner)
        if empty:
            rec = data.upload(context, rec['id'], io.BytesIO(b''), content_length=0, record=rec)
        out = _summary(rec)
        out['upload_url'] = signing.sign_url('PUT', rec['id'], CONF.image.signed_upload_ttl)
        return out

    def discard_snapshot_images(self, context, instance_uuid, image_id=None):
        """Delete the snapshot images of ``instance_uuid`` whose data never
        arrived (queued, saving or killed), or only ``image_id`` among them.

        For a compute agent whose snapshot failed or was cut short (it holds
        no token): an active image, or any image that is not an unfinished
        snapshot of that instance, is left alone. Returns the ids deleted.
        """
        admin = ctx_mod.get_admin_context()
        gone = []
        for found in images.unfinished_snapshots(instance_uuid, image_id):
            try:
                data.delete(admin, found)
                gone.append(found)
            except exception.AltostackError as e:  # protected, or deleted meanwhile
                LOG.warning('Snapshot image %s of %s not discarded: %s', found,
                            instance_uuid, e)
        if gone:
            LOG.info('Discarded unfinished snapshot images %s of instance %s',
                     ', '.join(gone), instance_uuid)
        return gone
