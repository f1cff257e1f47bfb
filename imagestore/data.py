"""Image data flows: upload (stream, hash, inspect, activate) and download.

Upload, step by step:
  1. check: the caller may upload, the image is queued and has its formats;
  2. queued -> saving (a compare-and-set: a second upload gets 409);
  3. stream the body into a staged file, hashing md5 and sha512;
  4. qemu-img inspects the staged file; a format that contradicts the
     declared disk_format (or an image with a backing file) is refused;
  5. the file is renamed into place and saving -> active with size,
     checksums and virtual size, in one compare-and-set.
A failure the client caused (bad data, too large, broken stream) or a store
failure puts the image back to queued, so the upload can be retried; a bug
kills it. An image deleted during its upload loses the new data (410).
While it streams, an upload renews its lease ([image] upload_lease); one
whose image service died lapses, and any image service puts its image back
to queued (``give_up_lapsed``).
"""

import time

from oslo_log import log as logging

from common import exception
from common.conf import CONF
from imagestore import exception as img_exc
from imagestore import formats
from imagestore import images
from imagestore import states
from imagestore import store as store_mod

LOG = logging.getLogger(__name__)


class Gone(exception.AltostackError):
    code = 410
    msg_fmt = 'Image %(id)s was deleted while its data was being uploaded.'


def upload(context, image_id, stream, content_length=None, record=None,
           expected_size=None):
    """Store ``stream`` as the image's data; returns the active record.

    ``record`` is given by internal callers that already checked access.
    ``expected_size`` (the client's X-OpenStack-Image-Size) must match the
    bytes received, when given.
    """
    rec = record or images.check_upload(context, image_id)
    if record is not None and not (rec['disk_format'] and rec['container_format']):
        raise exception.BadRequest('Properties disk_format, container_format must be set '
                                   'prior to saving data.')
    max_size = CONF.image.max_image_size
    if content_length is not None and content_length > max_size:
        raise img_exc.RequestEntityTooLarge(
            reason='The image is larger than the %d bytes this image service accepts.'
                   % max_size)
    images.transition(image_id, 'upload')
    store = store_mod.get_store()
    staged = None
    try:
        staged = store.stage(image_id, _Renewing(stream, image_id), max_size)
        if expected_size is not None and staged.size != expected_size:
            raise img_exc.InvalidImageData(
                reason='%d bytes arrived but the client announced %d' % (staged.size,
                                                                         expected_size))
        found = formats.inspect(staged.path)
        formats.check(rec['disk_format'], found, staged.path)
        virtual_size = found.virtual_size
        staged.commit()
        try:
            done = images.transition(
                image_id, 'finish', size=staged.size, virtual_size=virtual_size,
                checksum=staged.checksum, os_hash_algo=staged.os_hash_algo,
                os_hash_value=staged.os_hash_value)
        except (states.InvalidImageStatus, img_exc.ImageNotFound):
            store.delete(image_id)
            raise Gone(id=image_id) from None
        LOG.info('Image %s is active: %d bytes, %s, virtual size %s', image_id, staged.size,
                 found.format, virtual_size)
        return done
    except Exception as e:
        if staged is not None:
            staged.discard()
        event = 'fail' if isinstance(e, exception.AltostackError) else 'kill'
        if isinstance(e, Gone):
            raise
        _undo(image_id, event)
        if event == 'kill':
            LOG.exception('Upload of image %s failed; the image is killed', image_id)
        raise


class _Renewing:
    """The upload's stream; renews the upload's lease as it is read."""

    def __init__(self, stream, image_id):
        self.stream, self.image_id = stream, image_id
        self.renewed = time.monotonic()

    def read(self, size=-1):
        now = time.monotonic()
        if now - self.renewed >= CONF.image.upload_lease / 4:
            self.renewed = now
            images.renew_upload(self.image_id)
        return self.stream.read(size)


def give_up_lapsed():
    """Images whose upload stopped renewing its lease (its image service
    died): back to queued. Their ids."""
    lapsed = images.lapsed_uploads(CONF.image.upload_lease)
    for image_id in lapsed:
        LOG.warning('The upload of image %s stopped %d s ago or more (its image service '
                    'died?): the image is queued again', image_id, CONF.image.upload_lease)
        _undo(image_id, 'fail')
    return lapsed


def _undo(image_id, event):
    try:
        images.transition(image_id, event)
    except (states.InvalidImageStatus, img_exc.ImageNotFound):
        pass  # deleted meanwhile: nothing to put back
    except Exception:  # noqa: BLE001 - the original error matters more
        LOG.exception('Could not move image %s out of saving', image_id)


def open_data(context, image_id, internal=False):
    """(record, open file or None) for a download; None when there is no data."""
    if internal:
        rec = images.get_any(image_id)
    else:
        rec = images.get(context, image_id)
        images.authorize(context, 'download_image', rec['owner'])
        if rec['status'] == states.DEACTIVATED and not images.is_admin(context):
            raise exception.Forbidden('The requested image has been deactivated. Image data '
                                      'download is prohibited.')
    if rec['status'] not in (states.ACTIVE, states.DEACTIVATED) or (
            internal and rec['status'] != states.ACTIVE):
        if internal:
            raise states.InvalidImageStatus(image_id=image_id, status=rec['status'],
                                            why='only an active image can be downloaded')
        return rec, None
    return rec, store_mod.get_store().open(image_id)


def delete(context, image_id):
    """Delete the image (not a protected one) and its data."""
    store = store_mod.get_store()
    store.check_deletable(image_id)
    rec = images.delete(context, image_id)
    store.delete(image_id)
    return rec
