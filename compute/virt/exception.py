"""Errors of the hypervisor layer; the manager records them as instance
faults. All are AltostackErrors, so they cross RPC with a code."""

from common import exception
from common.host import exception as host_exception

# The host helpers' errors (common.host) are the virt layer's too.
VirtError = host_exception.VirtError
NotSupported = host_exception.NotSupported
NetworkCommandFailed = host_exception.NetworkCommandFailed
ImageUnacceptable = host_exception.ImageUnacceptable
ImageDownloadFailed = host_exception.ImageDownloadFailed
ImageChecksumMismatch = host_exception.ImageChecksumMismatch


class HypervisorUnavailable(exception.ServiceUnavailable):
    msg_fmt = 'Connection to the hypervisor %(uri)s failed: %(reason)s'


class GuestNotFound(exception.NotFound):
    msg_fmt = 'Instance %(instance_id)s could not be found on this host.'


class InstanceExists(exception.Conflict):
    msg_fmt = 'Instance %(instance_id)s already exists on this host.'


class InstancePowerOffFailure(VirtError):
    msg_fmt = 'Failed to power off instance %(instance_id)s: %(reason)s'


class InstanceSpawnFailure(VirtError):
    msg_fmt = 'Failed to spawn instance %(instance_id)s: %(reason)s'


class ConsoleNotAvailable(exception.Conflict):
    msg_fmt = 'No serial console is available for instance %(instance_id)s.'


class GraphicalConsoleNotAvailable(ConsoleNotAvailable):
    msg_fmt = 'No VNC console is available for instance %(instance_id)s: %(reason)s.'

    NOT_RUNNING = 'its guest is not running'
    NO_DISPLAY = ('its guest has no display (it was defined while [vnc] enabled was false '
                  'on its host, or before guests had displays)')


class NoFreeConsolePort(VirtError):
    msg_fmt = 'No free serial console port in %(port_min)d-%(port_max)d on %(host)s.'


class FlavorDiskSmallerThanImage(exception.BadRequest):
    msg_fmt = ('Flavor\'s disk (%(flavor_size)d bytes) is smaller than image '
               '%(image_id)s (%(image_size)d bytes).')


class ConfigDriveFailure(VirtError):
    msg_fmt = 'Building the config drive failed: %(reason)s'


class NetworkApplyFailed(VirtError):
    msg_fmt = 'The host network could not be fully applied: %(reason)s'


class VolumeDetachFailed(VirtError):
    msg_fmt = 'Detaching volume %(volume_id)s from %(instance_id)s failed: %(reason)s'


class VolumeAttachFailed(VirtError):
    msg_fmt = 'Attaching volume %(volume_id)s to %(instance_id)s failed: %(reason)s'


class NoFreeDevice(exception.Conflict):
    msg_fmt = 'No free disk device for instance %(instance_id)s: %(reason)s'


class RebuiltNotStarted(VirtError):
    """The new root disk is in place but the guest did not start on it."""
    msg_fmt = 'Instance %(instance_id)s was rebuilt but did not start: %(reason)s'


class SnapshotFailed(VirtError):
    msg_fmt = 'Snapshot of instance %(instance_id)s failed: %(reason)s'


class ImageUploadFailed(VirtError):
    msg_fmt = 'Upload of image %(image_id)s failed: %(reason)s'
