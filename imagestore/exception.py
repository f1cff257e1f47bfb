"""Errors of the image service, on top of common.exception."""

from common import exception


class ImageNotFound(exception.NotFound):
    msg_fmt = 'No image found with ID %(id)s.'


class MemberNotFound(exception.NotFound):
    msg_fmt = 'Project %(member)s is not a member of image %(image_id)s.'


class RequestEntityTooLarge(exception.AltostackError):
    code = 413
    msg_fmt = '%(reason)s'


class UnsupportedMediaType(exception.AltostackError):
    code = 415
    msg_fmt = '%(reason)s'


class InvalidImageData(exception.BadRequest):
    msg_fmt = 'The image data was refused: %(reason)s'


class ReadOnlyAttribute(exception.Forbidden):
    msg_fmt = "Attribute '%(name)s' is read-only."


class ReservedAttribute(exception.Forbidden):
    msg_fmt = "Attribute '%(name)s' is reserved."


class ImageProtected(exception.Forbidden):
    msg_fmt = 'Image %(id)s is protected and cannot be deleted.'


class StoreError(exception.AltostackError):
    """The file store failed (disk full, permissions): our fault, not the client's."""
    code = 503
    msg_fmt = 'The image store failed: %(reason)s'


class StorageFull(exception.AltostackError):
    """The store's disk is full (ENOSPC, EDQUOT): Glance answers 413 and the
    image goes back to queued, so the upload can be retried once there is room."""
    code = 413
    msg_fmt = 'Image storage media is full: %(reason)s'
