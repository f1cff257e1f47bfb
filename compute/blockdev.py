"""A compute agent's side of volumes: connecting a server's volumes for a
build, hot-plugging and unplugging them, releasing them when the server
goes, and settling attaches and detaches a restart interrupted.

The agent holds no database credentials: every step it takes is reported
to the volume service (blockstore.rpcapi), which keeps the volume records.
"""

import time

from oslo_log import log as logging

from blockstore import rpcapi as volume_rpcapi
from common.conf import CONF

LOG = logging.getLogger(__name__)
# How long a build waits for a volume made for it (from an image, say).
VOLUME_READY_TIMEOUT = 300
_POLL = 0.5


class VolumeNotReady(Exception):
    pass


def connector():
    """Who is connecting: the backend exports by path to its own host and
    over NBD to any other."""
    return {'host': CONF.host, 'ip': CONF.my_ip}


class BlockDevices:
    def __init__(self, driver_getter, volume_api=None):
        self._driver = driver_getter
        self.volumes = volume_api or volume_rpcapi.VolumeAPI()

    @property
    def driver(self):
        return self._driver()

    # -- build -------------------------------------------------------------
    def _wait_ready(self, ctx, volume, timeout=VOLUME_READY_TIMEOUT):
        """The volume once it has left 'creating' (made for this server)."""
        deadline = time.monotonic() + timeout
        vol = volume
        while vol is not None and vol['status'] == 'creating':
            if time.monotonic() > deadline:
                raise VolumeNotReady('Volume %s was not made within %ds.'
                                     % (volume['id'], timeout))
            time.sleep(_POLL)
            vol = self.volumes.get_volume(ctx, volume['id'])
        if vol is None or vol['status'] not in ('attaching', 'in-use'):
            raise VolumeNotReady('Volume %s could not be made (status %s).'
                                 % (volume['id'], vol and vol['status']))
        return vol

    def connect_for_build(self, ctx, block_devices):
        """block_device_info for the driver's spawn: each volume of the
        server, waited for and connected to this host."""
        mapping = []
        for bd in block_devices:
            vol = self._wait_ready(ctx, bd['volume'])
            bd['volume'] = vol
            conn = self.volumes.initialize_connection(ctx, vol, connector())
            mapping.append({'connection_info': conn, 'volume_id': vol['id'],
                            'device': bd.get('device'), 'boot_index': bd.get('boot_index')})
        return {'mapping': mapping}

    def complete_build(self, ctx, instance, block_devices):
        """The guest runs with its volumes: record where each one is."""
        if not block_devices:
            return
        devices = {a['volume_id']: a['device']
                   for a in self.driver.list_volume_attachments(instance)}
        for bd in block_devices:
            self.volumes.attach_complete(ctx, bd['volume'], bd['attachment_id'], CONF.host,
                                         devices.get(bd['volume']['id'], bd.get('device')))

    def disconnect_failed_build(self, ctx, block_devices):
        """A build that failed here: drop this host's exports (the volumes
        stay reserved for the server, which may be built elsewhere)."""
        for bd in block_devices:
            try:
                self.volumes.terminate_connection(ctx, bd['volume'], connector())
            except Exception:  # noqa: BLE001 - best effort
                LOG.warning('Could not end the connection of volume %s',
                            bd['volume']['id'], exc_info=True)

    # -- hot-plug ----------------------------------------------------------
    def attach(self, ctx, instance, volume, attachment_id, device=None):
        """Plug the volume into the guest and report it; on failure give
        the reservation back and raise."""
        vid = volume['id']
        plugged = False
        try:
            conn = self.volumes.initialize_connection(ctx, volume, connector())
            dev = self.driver.attach_volume(ctx, instance, conn, vid, device)
            plugged = True
            done = self.volumes.attach_complete(ctx, volume, attachment_id, CONF.host, dev)
            if done is None:
                raise RuntimeError('the attachment was cancelled')
            return dev
        except Exception:
            LOG.exception('Attaching volume %s to %s failed', vid, instance['uuid'])
            if plugged:
                self._unplug_quietly(ctx, instance, vid)
            self.volumes.release_attachment(ctx, volume, attachment_id, connector())
            raise

    def detach(self, ctx, instance, volume, attachment_id):
        """Unplug (waiting, bounded, for the guest to let go) and report;
        on failure the volume is in-use again and this raises."""
        try:
            self.driver.detach_volume(ctx, instance, volume['id'])
        except Exception:
            LOG.exception('Detaching volume %s from %s failed', volume['id'],
                          instance['uuid'])
            self.volumes.roll_detaching(ctx, volume)
            raise
        self.volumes.release_attachment(ctx, volume, attachment_id, connector())

    def _unplug_quietly(self, ctx, instance, volume_id):
        try:
            self.driver.detach_volume(ctx, instance, volume_id)
        except Exception:  # noqa: BLE001 - best effort
            LOG.exception('Could not unplug volume %s from %s', volume_id, instance['uuid'])

    # -- the server goes ---------------------------------------------------
    def release_all(self, ctx, instance):
        """After the guest is destroyed: every volume of the server is
        released (deleted with delete_on_termination)."""
        for bd in instance.get('block_devices') or []:
            try:
                self.volumes.release_attachment(ctx, bd['volume'], bd['attachment_id'],
                                                connector(),
                                                delete_volume=bd['delete_on_termination'])
            except Exception:  # noqa: BLE001 - the next reconcile finds it again
                LOG.exception('Could not release volume %s of %s', bd['volume']['id'],
                              instance['uuid'])

    # -- after a restart ---------------------------------------------------
    def settle(self, ctx, instance):
        """Attaches and detaches a restart cut short: a disk the guest has
        makes a reserved attachment attached; one it lacks gives it back.
        A detach that was under way is finished."""
        pending = [bd for bd in instance.get('block_devices') or []
                   if bd['status'] in ('reserved', 'detaching')]
        if not pending:
            return
        present = {a['volume_id']: a['device']
                   for a in self.driver.list_volume_attachments(instance)}
        for bd in pending:
            vol = bd['volume']
            try:
                if bd['status'] == 'detaching':
                    LOG.warning('Finishing the detach of volume %s from %s', vol['id'],
                                instance['uuid'])
                    self.detach(ctx, instance, vol, bd['attachment_id'])
                elif vol['id'] in present:
                    LOG.warning('Volume %s is in %s: completing its attach', vol['id'],
                                instance['uuid'])
                    self.volumes.attach_complete(ctx, vol, bd['attachment_id'], CONF.host,
                                                 present[vol['id']])
                else:
                    LOG.warning('Volume %s never reached %s: giving it back', vol['id'],
                                instance['uuid'])
                    self.volumes.release_attachment(ctx, vol, bd['attachment_id'],
                                                    connector())
            except Exception:  # noqa: BLE001 - one volume must not stop the rest
                LOG.exception('Could not settle volume %s of %s', vol['id'],
                              instance['uuid'])
