"""Errors of the host helpers (common.host). The compute agent's virt layer
re-exports them (compute.virt.exception) and builds its own on VirtError.
All are AltostackErrors, so they cross RPC with a code."""

from common import exception


class VirtError(exception.AltostackError):
    msg_fmt = 'Hypervisor error: %(reason)s'


class NotSupported(exception.BadRequest):
    msg_fmt = 'Not supported by this hypervisor driver: %(what)s'


class NetworkCommandFailed(VirtError):
    msg_fmt = 'Data plane command %(cmd)s failed (%(code)s): %(stderr)s'


class ImageUnacceptable(exception.BadRequest):
    msg_fmt = 'Image %(image_id)s is unacceptable: %(reason)s'


class ImageDownloadFailed(VirtError):
    msg_fmt = 'Download of image %(image_id)s failed: %(reason)s'


class ImageChecksumMismatch(ImageDownloadFailed):
    msg_fmt = ('Image %(image_id)s failed verification: %(algo)s is %(actual)s, '
               'expected %(expected)s.')
