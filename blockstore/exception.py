"""Every error of the volume records and the volume backends, once.

The records' texts are Cinder's (the API shows them); the backends' are
ours. Each is an AltostackError, so it crosses RPC with its code.
"""

from common import exception


class VolumeNotFound(exception.NotFound):
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class SnapshotNotFound(exception.NotFound):
    msg_fmt = 'Snapshot %(snapshot_id)s could not be found.'


class VolumeTypeNotFound(exception.NotFound):
    msg_fmt = 'Volume type %(volume_type_id)s could not be found.'


class VolumeTypeNotFoundByName(exception.NotFound):
    msg_fmt = 'Volume type with name %(volume_type_name)s could not be found.'


class AttachmentNotFound(exception.NotFound):
    msg_fmt = 'Volume attachment could not be found with filter: %(filter)s.'


# Cinder's "Invalid input received" is the common one.
InvalidInput = exception.InvalidInput


class InvalidVolume(exception.BadRequest):
    msg_fmt = 'Invalid volume: %(reason)s'


class InvalidSnapshot(exception.BadRequest):
    msg_fmt = 'Invalid snapshot: %(reason)s'


class VolumeInUse(exception.Conflict):
    """The attach flow's refusal (Nova words it as an invalid volume)."""
    msg_fmt = 'Invalid volume: volume %(volume_id)s already attached or in use (%(status)s).'


class QuotaError(exception.AltostackError):
    code = 413
    msg_fmt = 'Quota exceeded: code=%(code)s'


class VolumeSizeExceedsAvailableQuota(QuotaError):
    msg_fmt = ('Requested volume or snapshot exceeds allowed %(name)s quota. Requested '
               '%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.')


class VolumeSizeExceedsLimit(QuotaError):
    msg_fmt = ('Requested volume size %(size)dG is larger than maximum allowed limit '
               '%(limit)dG.')


class VolumeLimitExceeded(QuotaError):
    msg_fmt = "Maximum number of volumes allowed (%(allowed)d) exceeded for quota '%(name)s'."


class SnapshotLimitExceeded(QuotaError):
    msg_fmt = 'Maximum number of snapshots allowed (%(allowed)d) exceeded'


# --- the backends' errors -----------------------------------------------------

class BackendError(exception.AltostackError):
    msg_fmt = 'Volume backend error: %(reason)s'


class VolumeExists(exception.Conflict):
    msg_fmt = 'Volume %(volume_id)s already exists on this backend.'


class InvalidSize(exception.BadRequest):
    msg_fmt = 'Invalid size: %(reason)s'


class VolumeBusy(exception.Conflict):
    msg_fmt = 'Volume %(volume_id)s is busy: %(reason)s'
