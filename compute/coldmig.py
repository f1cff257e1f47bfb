"""Cold migration and resize to another host: the compute agents' side.

The API has claimed room on the destination (under the migration's uuid)
and set the server to resize_prep; the source agent takes it from there:

    source   resize_migrating; the guest is powered off (a stopped server
             stays so); its root disk is exported read-only over NBD on
             [DEFAULT] my_ip (driver.export_root_disk) and the destination
             is called (finish_migration) while the export lasts.
    dest     the server's ports are bound here (scheduler
             bind_moving_ports) and the data plane synced; its volumes are
             connected here; the driver copies the disk, grows it to the new
             flavor, writes a new config drive and defines the guest
             (started unless the server was stopped); the move is reported
             finished: the records put the server here (VERIFY_RESIZE).
    source   the export ends. If the destination failed (or never
             answered), the source takes the server back: it reports the
             move failed first (the records put it back here and give the
             destination's claim back; a report that comes too late, after
             the destination's, changes nothing and the source stays off),
             then binds the ports here again and starts its guest.

The source keeps its stopped guest and disk until the move is confirmed
(the API sends confirm_resize to the source, which removes them) or
reverted (revert_resize goes to the destination, which removes its copy
and asks the source to start its own again: finish_revert_migration).
The scheduler lists such a server for its source too (get_host_instances),
so a restarted source keeps the old guest rather than removing it as an
orphan. A destination that restarts mid-copy finds an orphan it removes;
the source's call to it then times out and the source takes the server
back. A source that restarts mid-move takes the server back as well.
"""

from oslo_log import log as logging

from common import instance_states as st
from common.conf import CONF
from compute.virt import power_state

LOG = logging.getLogger(__name__)


def is_move(migration):
    """True when ``migration`` goes to another host (a record without
    hosts is a resize in place)."""
    return bool(migration) and migration.get('source_compute') != migration.get(
        'dest_compute')


class ColdMoves:
    def __init__(self, manager):
        self.m = manager

    @property
    def driver(self):
        return self.m.driver

    @property
    def host(self):
        return self.m.host

    def _ports_here(self, ctx, inst):
        """Bind the server's ports to this host and sync the data plane; its
        network_info ([] when the scheduler could not be reached: the
        periodic network sync catches up)."""
        try:
            network_info = self.m.conductor.bind_moving_ports(ctx, inst['uuid'], self.host,
                                                              timeout=CONF.rpc_call_timeout)
        except Exception:  # noqa: BLE001 - the guest should still start
            LOG.exception('Could not bind the ports of %s to %s', inst['uuid'], self.host)
            return []
        if network_info and not self.m.netsync.sync(ctx):
            raise RuntimeError('The host network for the server could not be set up.')
        return network_info

    def _end_export(self, inst):
        try:
            self.driver.end_export(inst)
        except Exception:  # noqa: BLE001 - bounded by its own timeout anyway
            LOG.exception('Could not end the disk export of %s', inst['uuid'])

    # -- source: send ------------------------------------------------------
    def send(self, ctx, inst, migration):
        """Move the server (task resize_migrating) to the destination."""
        dest = migration['dest_compute']
        was_running = inst['vm_state'] != st.STOPPED
        try:
            if was_running:
                self.driver.power_off(inst)
            url = self.driver.export_root_disk(inst, CONF.my_ip, CONF.migration_copy_timeout)
            result = self.m.compute_api.finish_migration(
                ctx, dest, inst, migration, url, timeout=CONF.migration_copy_timeout)
        except Exception as e:  # noqa: BLE001 - any failure: the server stays here
            LOG.exception('Moving %s to %s failed', inst['uuid'], dest)
            result = {'ok': False, 'message': 'The move to %s failed: %s'
                      % (dest, str(e) or type(e).__name__)}
        finally:
            self._end_export(inst)
        if result.get('ok'):
            LOG.info('Moved %s to %s', inst['uuid'], dest)
            self.m.reports.event(ctx, inst, 'compute_resize_instance', 'finish')
            return True
        self.take_back(ctx, inst, migration, result.get('message') or 'The move failed.',
                       power_on=was_running)
        return False

    def take_back(self, ctx, inst, migration, message, power_on):
        """The move did not happen: the records first (they may say the
        destination won after all), then the ports and the guest here."""
        want = power_state.RUNNING if power_on else power_state.SHUTDOWN
        done = self.m.reports.resize_step(ctx, inst, migration, 'resize', False,
                                          message=message, state=want)
        self.m.reports.event(ctx, inst, 'compute_resize_instance', 'finish', result='Error',
                             details=message[:500])
        if done is None:
            LOG.warning('The records of %s moved on; its guest here stays off', inst['uuid'])
            return
        try:
            network_info = self._ports_here(ctx, inst)
            if power_on:
                self.driver.power_on(ctx, inst, network_info)
        except Exception:  # noqa: BLE001 - the power sync reports what it is
            LOG.exception('Could not start %s again on %s', inst['uuid'], self.host)

    # -- destination: receive ----------------------------------------------
    def receive(self, ctx, inst, migration, disk_url):
        """Copy the disk, start the guest with the new flavor, report the
        move finished. {'ok': True} or {'ok': False, 'message'} with nothing
        left here."""
        event = 'compute_finish_resize'
        # A call that waited in this host's queue while the agent was away
        # may come after the source gave up: the records say whether to act.
        if self.m.reports.update(ctx, inst, {'task_state': st.RESIZE_MIGRATING},
                                 expected=[st.RESIZE_MIGRATING]) is None:
            LOG.warning('%s is no longer moving here; not taking it', inst['uuid'])
            return {'ok': False, 'message': 'The server is no longer moving to %s.'
                    % self.host}
        self.m.reports.event(ctx, inst, event, 'start')
        block_devices = inst.get('block_devices') or []
        new = dict(inst, flavor=migration['new_flavor'], host=self.host)
        try:
            network_info = self._ports_here(ctx, new)
            bdi = self.m.block.connect_for_build(ctx, block_devices)
            self.driver.spawn_migrated(ctx, new, disk_url, network_info, bdi,
                                       power_on=inst['vm_state'] != st.STOPPED,
                                       timeout=CONF.migration_copy_timeout)
        except Exception as e:  # noqa: BLE001 - reported to the source, which takes it back
            LOG.exception('Receiving %s on %s failed', inst['uuid'], self.host)
            self.m.block.disconnect_failed_build(ctx, block_devices)
            message = 'Starting the server on %s failed: %s' % (self.host,
                                                                str(e) or type(e).__name__)
            self.m.reports.event(ctx, inst, event, 'finish', result='Error', details=message[:500])
            return {'ok': False, 'message': message}
        if self.m.reports.resize_step(ctx, new, migration, 'resize', True) is None:
            LOG.warning('%s changed while it moved here; removing its guest', inst['uuid'])
            self.drop(ctx, new)
            self.m.reports.event(ctx, inst, event, 'finish', result='Error',
                                 details='The server changed while it moved.')
            return {'ok': False, 'message': 'The server changed while it moved.'}
        self.m.reports.event(ctx, inst, event, 'finish')
        return {'ok': True}

    def drop(self, ctx, inst):
        """Remove this host's guest and disk of the server and its volume
        connections here (the volumes stay attached to the server)."""
        self._end_export(inst)
        try:
            self.driver.destroy(ctx, inst, network_info=[], cleanup=True)
        except Exception:  # noqa: BLE001 - an orphan the next restart removes
            LOG.exception('Could not remove the guest of %s from %s', inst['uuid'],
                          self.host)
        self.m.block.disconnect_failed_build(ctx, inst.get('block_devices') or [])

    # -- confirm (source) and revert (destination, then source) -----------
    def confirm(self, ctx, inst, migration):
        """On the source: the old guest and disk go; the records give the
        source's claim back."""
        self.m.reports.event(ctx, inst, 'compute_confirm_resize', 'start')
        self.drop(ctx, inst)
        self.m.reports.resize_step(ctx, inst, migration, 'confirm', True,
                                   state=inst.get('power_state'))
        self.m.netsync.sync(ctx)
        self.m.reports.event(ctx, inst, 'compute_confirm_resize', 'finish')

    def revert(self, ctx, inst, migration):
        """On the destination: its copy goes, then the source starts its
        own again (finish_revert_migration)."""
        self.m.reports.event(ctx, inst, 'compute_revert_resize', 'start')
        self.drop(ctx, inst)
        try:
            self.m.compute_api.finish_revert_migration(ctx, migration['source_compute'],
                                                       inst, migration)
        except Exception as e:  # noqa: BLE001
            LOG.exception('Could not ask %s to take %s back', migration['source_compute'],
                          inst['uuid'])
            message = 'The source host %s could not be reached: %s' % (
                migration['source_compute'], e)
            self.m.reports.resize_step(ctx, inst, migration, 'revert', False, message=message,
                                       state=power_state.NOSTATE)
            self.m.reports.event(ctx, inst, 'compute_revert_resize', 'finish', result='Error',
                                 details=message[:500])

    def finish_revert(self, ctx, inst, migration):
        """On the source: the old guest (old flavor, untouched disk) runs
        again if it ran before the move."""
        power_on = migration.get('vm_state_before') != st.STOPPED
        try:
            network_info = self._ports_here(ctx, inst)
            if power_on:
                self.driver.power_on(ctx, inst, network_info)
        except Exception:  # noqa: BLE001 - back here all the same; it rests as it is
            LOG.exception('Could not start %s again on %s', inst['uuid'], self.host)
        self.m.reports.resize_step(ctx, inst, migration, 'revert', True)
        self.m.reports.event(ctx, inst, 'compute_revert_resize', 'finish')

    # -- after a restart ---------------------------------------------------
    def moved_away(self, inst):
        """True for a server (of get_host_instances) that moved from this
        host to another and may still come back."""
        mig = inst.get('migration')
        return (is_move(mig) and mig['source_compute'] == self.host
                and inst.get('host') == mig['dest_compute'])

    def init_moved_away(self, ctx, inst, exists):
        """A server whose move from here waits for its confirmation: keep
        the old guest, unless the confirm was under way."""
        migration = inst.get('migration')
        if inst['task_state'] == st.RESIZE_CONFIRMING and migration:
            self.confirm(ctx, inst, migration)
        elif not exists:
            LOG.warning('The old guest of %s (moved to %s) is gone from here', inst['uuid'],
                        inst.get('host'))

    def init_resize(self, ctx, inst, exists):
        """A move cut short by a restart of this agent (a resize_* task)."""
        migration = inst['migration']
        task = inst['task_state']
        if self.host == migration['source_compute'] and task in (st.RESIZE_PREP,
                                                                 st.RESIZE_MIGRATING):
            self._end_export(inst)
            self.take_back(ctx, inst, migration,
                           'The compute agent restarted during the move.',
                           power_on=migration.get('vm_state_before') != st.STOPPED)
        elif task == st.RESIZE_REVERTING:
            self.revert(ctx, inst, migration)
        # RESIZE_CONFIRMING on the destination: the source's to finish.
