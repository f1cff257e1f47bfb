"""What the compute API needs to know of an image, asked of the image service."""

import oslo_messaging as messaging

from common import exception
from imagestore import rpcapi as image_rpcapi


def get(ctx, image_id):
    """The image as the caller may see it, or a 400 (Nova's answer for a bad imageRef)."""
    try:
        return image_rpcapi.ImageAPI().get_image_for_download(ctx, image_id)
    except exception.NotFound:
        raise exception.BadRequest('Can not find requested image %s.' % image_id) from None
    except exception.AltostackError as e:
        # e.g. an image that is not active yet: Nova answers 400.
        if e.code >= 500:
            raise
        raise exception.BadRequest('Image %s cannot be used: %s' % (image_id, e.message)
                                   ) from None
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the image service did not answer'
                                           ) from None
    except messaging.RemoteError as e:
        if 'NotFound' in (e.exc_type or ''):
            raise exception.BadRequest('Can not find requested image %s.' % image_id
                                       ) from None
        raise
