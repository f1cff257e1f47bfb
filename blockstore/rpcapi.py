"""Client of the volume service.

Casts carry a bounded retry, so a broker that is away fails the API call
that sent them quickly (the caller puts the volume in error) instead of
hanging it; calls carry [volume] rpc_timeout.

Version history:

    1.0 - ping (call)
    1.1 - create_volume, delete_volume, extend_volume, create_snapshot,
          delete_snapshot (casts); initialize_connection,
          terminate_connection (calls)
    1.2 - get_volume, attach_complete, release_attachment, roll_detaching
          (calls: compute agents report the steps of attach and detach)
"""

from common import rpc
from common.conf import CONF

TOPIC = 'volume'
_CAST_RETRY = 1


class VolumeAPI:
    VERSION = '1.2'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def _cast(self, context, method, host=None, **kwargs):
        cctxt = self.client.prepare(version='1.1', retry=_CAST_RETRY,
                                    **({'server': host} if host else {}))
        cctxt.cast(context, method, **kwargs)

    def _call(self, context, method, host=None, timeout=None, version='1.1', **kwargs):
        cctxt = self.client.prepare(version=version, timeout=timeout or CONF.volume.rpc_timeout,
                                    **({'server': host} if host else {}))
        return cctxt.call(context, method, **kwargs)

    def ping(self, context):
        cctxt = self.client.prepare(version='1.0')
        return cctxt.call(context, 'ping')

    # A volume that has a host (the service that made it) goes back there.
    def create_volume(self, context, volume):
        self._cast(context, 'create_volume', volume=volume)

    def delete_volume(self, context, volume):
        self._cast(context, 'delete_volume', host=volume.get('host'), volume=volume)

    def extend_volume(self, context, volume, new_size):
        self._cast(context, 'extend_volume', host=volume.get('host'), volume=volume,
                   new_size=new_size)

    def create_snapshot(self, context, snapshot, volume=None):
        self._cast(context, 'create_snapshot', host=(volume or {}).get('host'),
                   snapshot=snapshot)

    def delete_snapshot(self, context, snapshot, volume=None):
        self._cast(context, 'delete_snapshot', host=(volume or {}).get('host'),
                   snapshot=snapshot)

    def initialize_connection(self, context, volume, connector, timeout=None):
        """The backend's connection_info for ``connector`` (the compute host)."""
        return self._call(context, 'initialize_connection', host=volume.get('host'),
                          timeout=timeout, volume=volume, connector=connector)

    def terminate_connection(self, context, volume, connector, timeout=None):
        return self._call(context, 'terminate_connection', host=volume.get('host'),
                          timeout=timeout, volume=volume, connector=connector)

    def get_volume(self, context, volume_id):
        """The volume's dict (None when it is gone)."""
        return self._call(context, 'get_volume', version='1.2', volume_id=volume_id)

    def attach_complete(self, context, volume, attachment_id, host_name, device):
        return self._call(context, 'attach_complete', version='1.2', volume=volume,
                          attachment_id=attachment_id, host_name=host_name, device=device)

    def release_attachment(self, context, volume, attachment_id, connector,
                           delete_volume=False):
        return self._call(context, 'release_attachment', host=volume.get('host'),
                          version='1.2', volume=volume, attachment_id=attachment_id,
                          connector=connector, delete_volume=delete_volume)

    def roll_detaching(self, context, volume):
        return self._call(context, 'roll_detaching', version='1.2', volume=volume)
