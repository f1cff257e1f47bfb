"""Live migration on the compute agents: the server keeps running while it
moves to another host.

The API has chosen and claimed the destination (scheduler
select_destination), checked that it takes incoming migrations
(check_destination, on the destination) and set the task_state
'migrating'. Then:

    source   live_migration (cast): reads the guest's migratable XML and
             root disk size, and calls the destination's
    dest     pre_live_migration: has the scheduler bind the server's ports
             here (step 'prepare') and syncs its data plane, fetches the
             image into its cache, makes the overlay (same virtual size),
             the config drive and the guest's XML here
    source   the driver migrates (peer to peer, disk blocks then memory);
             reports step 'migrate' ok: the records follow the guest to the
             destination (host, node, claims); its files here go
    failure  the destination removes what it prepared (rollback), the
             source reports step 'migrate' not ok: ports and records stay on
             the source, the destination's claim is given back, the
             migration is 'error', the event says why

An agent that restarts mid-migration (settle) finds the guest where
libvirt says: still here -> the migration failed (any job left is
aborted); gone -> it moved. The server never stays MIGRATING.
"""

import time

import oslo_messaging as messaging
from oslo_log import log as logging

from common import instance_states as st
from common import rpc
from common.conf import CONF
from compute import blockdev
from compute import rpcapi as compute_rpcapi
from compute.virt import power_state

LOG = logging.getLogger(__name__)

EVENT = 'compute_live_migration'
EVENT_PRE = 'compute_pre_live_migration'


def _power_of(instance):
    """The power state a guest keeps through the move."""
    return power_state.PAUSED if instance.get('vm_state') == st.PAUSED \
        else power_state.RUNNING


class LiveMigrations:
    def __init__(self, manager):
        self.manager = manager
        self.compute = compute_rpcapi.ComputeAPI()
        self._connected = {}  # uuid -> volumes connected here for a guest arriving

    @property
    def volumes(self):
        return self.manager.block.volumes

    @property
    def driver(self):
        return self.manager.driver

    def _steps(self):
        steps = self.driver.live_migration
        if steps is None:
            raise RuntimeError('the %s driver cannot live-migrate'
                               % type(self.driver).__name__)
        return steps

    def _report(self, ctx, inst, migration, step, ok, power, message=None):
        try:
            return rpc.call_until_answered(
                lambda: self.manager.conductor.live_migration_report(
                    ctx, inst['uuid'], migration['uuid'], step, ok, power, message=message),
                'the %s report of %s' % (step, inst['uuid']))
        except messaging.MessagingTimeout as e:
            raise RuntimeError('the scheduler did not take the %s report' % step) from e

    # -- destination ----------------------------------------------------------
    def check_destination(self, ctx, instance):
        if self.driver.live_migration is None:
            return 'host %s cannot take live migrations (driver %s)' % (
                self.manager.host, type(self.driver).__name__)
        return self.driver.live_migration.check_destination()

    def prepare(self, ctx, instance, migration, source):
        """Make this host ready for the guest; answers {'xml',
        'connect_uri', 'migrate_uri'} for the source."""
        uuid = instance['uuid']
        self.manager.reports.event(ctx, instance, EVENT_PRE, 'start')
        try:
            with self.manager.guests.lock(uuid):
                out = self._report(ctx, instance, migration, 'prepare', True,
                                   _power_of(instance))
                if out is None:
                    raise RuntimeError('the migration is no longer under way')
                network_info = out['network_info']
                block_devices = [bd for bd in out.get('block_devices') or []
                                 if bd.get('status') == 'attached']
                if network_info and not self.manager.netsync.sync(ctx):
                    raise RuntimeError('The host network for the server could not be set '
                                       'up.')
                volumes = self._connect_volumes(ctx, uuid, block_devices)
                image, base = {}, None
                if instance.get('image_ref') and source.get('disk_size'):
                    image = self.manager.images.get_image_for_download(
                        ctx, instance['image_ref'])
                    with self.manager.cache.using(image) as base:
                        dest = self._steps().prepare(instance, image, base, network_info,
                                                     source, volumes=volumes)
                else:
                    dest = self._steps().prepare(instance, image, base, network_info, source,
                                                 volumes=volumes)
        except Exception as e:  # noqa: BLE001 - the source hears it and rolls back
            LOG.exception('Could not prepare for %s to arrive', uuid)
            self._disconnect_volumes(ctx, uuid)
            self.manager.reports.event(ctx, instance, EVENT_PRE, 'finish', result='Error',
                                       details=str(e)[:500])
            raise
        self.manager.reports.event(ctx, instance, EVENT_PRE, 'finish')
        return dict(dest, block_devices=block_devices)

    def _connect_volumes(self, ctx, uuid, block_devices):
        """{volume id: connection info} of the server's volumes for this
        host (the volume service exports them here)."""
        self._connected[uuid] = []
        out = {}
        for bd in block_devices:
            vol = bd['volume']
            out[vol['id']] = self.volumes.initialize_connection(ctx, vol, blockdev.connector())
            self._connected[uuid].append(vol)
        return out

    def _disconnect_volumes(self, ctx, uuid):
        for vol in self._connected.pop(uuid, []):
            try:
                self.volumes.terminate_connection(ctx, vol, blockdev.connector())
            except Exception:  # noqa: BLE001 - an export left over, no more
                LOG.warning('Could not end the connection of volume %s', vol['id'],
                            exc_info=True)

    def rollback(self, ctx, instance):
        with self.manager.guests.lock(instance['uuid']):
            self._steps().rollback(ctx, instance)
            self._disconnect_volumes(ctx, instance['uuid'])
        self.manager.netsync.sync(ctx)
        return True

    # -- source ---------------------------------------------------------------
    def migrate(self, ctx, instance, migration):
        uuid = instance['uuid']
        dest_host = migration['dest_compute']
        self.manager.reports.event(ctx, instance, EVENT, 'start')
        t0 = time.monotonic()
        try:
            source = self._steps().source_info(instance)
            dest = self.compute.pre_live_migration(
                ctx, dest_host, instance, migration, source,
                timeout=CONF.live_migration.prepare_timeout)
            with self.manager.guests.lock(uuid):
                stats = self._steps().migrate(instance, dest)
            stats['block_devices'] = dest.get('block_devices') or []
        except Exception as e:  # noqa: BLE001 - reported; the guest stays here
            if not self.driver.instance_exists(instance):
                # It left after all (the error came after the switch).
                LOG.warning('Live migration of %s reported %s, but the guest left', uuid, e)
                self._done(ctx, instance, migration, {}, t0)
                return
            LOG.exception('Live migration of %s to %s failed', uuid, dest_host)
            self._failed(ctx, instance, migration,
                         'Live migration to %s failed: %s' % (dest_host, e))
            return
        self._done(ctx, instance, migration, stats, t0)

    def _done(self, ctx, instance, migration, stats, t0):
        uuid = instance['uuid']
        try:
            self._steps().cleanup_source(instance)
        except Exception:  # noqa: BLE001 - leftovers only; the guest moved
            LOG.exception('Could not remove the files %s left here', uuid)
        self._hand_over_volumes(ctx, migration['dest_compute'],
                                stats.get('block_devices') or [])
        try:
            self._report(ctx, instance, migration, 'migrate', True, _power_of(instance))
        except Exception:  # noqa: BLE001 - the restart reconcile settles it
            LOG.exception('Could not report the live migration of %s', uuid)
        self.manager.netsync.sync(ctx)
        details = 'to %s in %.2f s' % (migration['dest_compute'], time.monotonic() - t0)
        if stats.get('downtime') is not None:
            details += ', guest paused %d ms' % stats['downtime']
        self.manager.reports.event(ctx, instance, EVENT, 'finish', details=details)

    def _hand_over_volumes(self, ctx, dest_host, block_devices):
        """The guest reads its volumes from the destination's connections
        now: this host's export goes and the attachments name the
        destination."""
        for bd in block_devices:
            vol = bd['volume']
            try:
                self.volumes.terminate_connection(ctx, vol, blockdev.connector())
                self.volumes.attach_complete(ctx, vol, bd['attachment_id'], dest_host,
                                             bd.get('device'))
            except Exception:  # noqa: BLE001 - one volume must not stop the rest
                LOG.exception('Could not hand volume %s over to %s', vol['id'], dest_host)

    def _failed(self, ctx, instance, migration, message):
        uuid = instance['uuid']
        try:
            self.compute.rollback_live_migration_at_destination(
                ctx, migration['dest_compute'], instance, timeout=CONF.rpc_call_timeout)
        except Exception:  # noqa: BLE001 - its reconcile removes an orphan guest
            LOG.warning('Could not ask %s to roll back %s', migration['dest_compute'], uuid,
                        exc_info=True)
        power = self.manager.guests.power_state(instance)
        try:
            self._report(ctx, instance, migration, 'migrate', False, power, message=message)
        except Exception:  # noqa: BLE001
            LOG.exception('Could not report the failed live migration of %s', uuid)
        self.manager.netsync.sync(ctx)
        self.manager.reports.event(ctx, instance, EVENT, 'finish', result='Error',
                                   details=message[:500])

    # -- restart --------------------------------------------------------------
    def settle(self, ctx, inst, exists):
        """After a restart of the source's agent: the records follow the guest."""
        migration = inst.get('migration')
        if migration is None or migration.get('migration_type') != 'live-migration':
            power = self.manager.guests.power_state(inst)
            self.manager.reports.update(ctx, inst, {'task_state': None, 'power_state': power},
                                        expected=[st.MIGRATING])
            return
        if exists:
            self._steps().abort_job(inst)
        if self.driver.instance_exists(inst):
            self._failed(ctx, inst, migration,
                         'The compute agent restarted during the live migration.')
        else:
            self._done(ctx, inst, migration, {}, time.monotonic())
