"""What a volume backend offers the volume service.

Ids are the API's ids (volume and snapshot UUIDs); sizes are GiB. A
backend keeps no database: the service owns the records and asks the
backend to make the bits match them.

``connector`` is what the compute host says about itself when it asks for a
connection: {'host': its [DEFAULT] host, 'ip': its address}. The answer,
``connection_info``, is what the compute driver's attach_volume takes:

    {'driver_volume_type': 'file',
     'data': {'path': ..., 'format': 'qcow2'|'raw'}}           same machine
    {'driver_volume_type': 'nbd',
     'data': {'host': ..., 'port': int, 'name': export name,
              'format': 'raw'}}                                 over the network

    {'driver_volume_type': 'rbd',
     'data': {'name': 'pool/volume-<id>', 'hosts': [...], 'ports': [...],
              'auth_enabled': True, 'auth_username': ..., 'secret_type': 'ceph',
              'secret_uuid': ...}}                         Ceph RBD (Nova/Cinder's shape)
 Errors are
AltostackErrors (blockstore/exception.py), so they cross RPC with a code.
"""

import abc
import re

from blockstore import exception
from common import exception as common_exc

_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')


def check_id(value, what='id'):
    """Ids become file and export names: refuse anything path-like."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise common_exc.BadRequest(reason='bad %s %r' % (what, value))
    return value


def check_size(size_gb):
    try:
        size = int(size_gb)
    except (TypeError, ValueError):
        raise exception.InvalidSize(reason='%r is not a whole number of GiB'
                                    % (size_gb,)) from None
    if size < 1 or size != size_gb:
        raise exception.InvalidSize(reason='%r GiB (a whole number >= 1 is needed)' % (size_gb,))
    return size


class VolumeBackend(abc.ABC):
    """One storage backend of one volume service host."""

    #: the connection types initialize_connection may answer
    connection_types = ()

    def start(self):
        """Get ready to serve (e.g. start the exports daemon and restore its
        exports). Idempotent."""
        return None

    def stop(self, keep_exports=True):
        """Release what start() took; the volumes stay. With
        ``keep_exports`` whatever serves exports in use keeps running (so a
        service restart does not cut guests off); False: stop it all."""
        return None

    @abc.abstractmethod
    def create(self, volume_id, size_gb):
        """An empty volume of ``size_gb`` GiB."""

    @abc.abstractmethod
    def create_from_snapshot(self, volume_id, snapshot_id, size_gb):
        """A new volume with the snapshot's data, grown to ``size_gb`` (which
        may not be smaller than the snapshot)."""

    @abc.abstractmethod
    def create_from_volume(self, volume_id, source_volume_id, size_gb):
        """A clone of another volume, grown to ``size_gb``."""

    @abc.abstractmethod
    def create_from_image(self, volume_id, image_path, size_gb, image_format=None):
        """A volume holding the image at local path ``image_path`` (any qemu
        format; ``image_format`` None: detected, but an image that names a
        backing file is refused), grown to ``size_gb``."""

    def clone_image(self, volume_id, image, size_gb):
        """A volume made from ``image`` (the image service's download record)
        without downloading it, when the backend can (e.g. a copy-on-write
        clone of an image in the same Ceph cluster); False: it cannot, the
        caller downloads the image and calls create_from_image."""
        return False

    @abc.abstractmethod
    def delete(self, volume_id):
        """Remove the volume (and its export first). Absent is not an error."""

    @abc.abstractmethod
    def extend(self, volume_id, new_size_gb):
        """Grow the volume; a smaller size raises InvalidSize."""

    @abc.abstractmethod
    def create_snapshot(self, snapshot_id, volume_id):
        """A point-in-time copy of the volume that stays valid whatever
        happens to the volume later."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id):
        """Absent is not an error."""

    @abc.abstractmethod
    def initialize_connection(self, volume_id, connector):
        """connection_info (module docstring) for the host in ``connector``."""

    @abc.abstractmethod
    def terminate_connection(self, volume_id, connector):
        """The host in ``connector`` no longer uses the volume; the export
        goes when no connection needs it. Unknown is not an error."""

    @abc.abstractmethod
    def get_stats(self):
        """{'total_gb', 'free_gb'} (floats)."""
