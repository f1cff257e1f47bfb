"""Client of the image service.

Version history:

    1.0 - ping (call)
    1.1 - get_image_for_download (call): image facts and a signed download URL
          create_snapshot_image (call): a queued image and a signed upload URL
    1.2 - discard_snapshot_images (call): delete an instance's snapshot images
    1.3 - create_snapshot_image takes empty=True: an image of no data,
          active at once (the snapshot of a server booted from a volume)
          whose data never arrived
"""

from common import exception
from common import rpc
from common import unit_of_work

TOPIC = 'image'


class ImageAPI:
    VERSION = '1.3'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def _prepare(self, version, method):
        if not self.client.can_send_version(version):
            raise exception.ServiceUnavailable(
                reason='the image service is too old for %s (needs RPC %s)'
                       % (method, version))
        return self.client.prepare(version=version)

    def ping(self, context):
        cctxt = self.client.prepare(version='1.0')
        return cctxt.call(context, 'ping')

    def get_image_for_download(self, context, image_id):
        """{'id', 'disk_format', 'size', 'checksum', 'os_hash_algo', 'os_hash_value',
        'min_disk', 'min_ram', 'properties', 'status', 'url'}: ``url`` serves the
        bytes over HTTP without a token for a few minutes."""
        cctxt = self._prepare('1.1', 'get_image_for_download')
        with unit_of_work.repeatable():  # asking again is harmless
            return cctxt.call(context, 'get_image_for_download', image_id=image_id)

    def create_snapshot_image(self, context, name, owner, properties, empty=False):
        """A new queued image owned by ``owner``; PUT its data to ``upload_url``
        (Content-Type application/octet-stream, no token). ``empty``: an
        image of no data, raw and active at once (a snapshot of a server
        booted from a volume)."""
        if not empty:
            cctxt = self._prepare('1.1', 'create_snapshot_image')
            return cctxt.call(context, 'create_snapshot_image', name=name, owner=owner,
                              properties=properties)
        cctxt = self._prepare('1.3', 'create_snapshot_image')
        return cctxt.call(context, 'create_snapshot_image', name=name, owner=owner,
                          properties=properties, empty=True)

    def discard_snapshot_images(self, context, instance_uuid, image_id=None):
        """Delete the queued, saving or killed snapshot images of
        ``instance_uuid`` (only ``image_id`` when given); returns their ids."""
        cctxt = self._prepare('1.2', 'discard_snapshot_images')
        return cctxt.call(context, 'discard_snapshot_images', instance_uuid=instance_uuid,
                          image_id=image_id)
