"""A compute agent's side of evacuations (the records: conductor.evacuations,
through the conductor, since the agent holds no database credentials).

On the destination: the server is built anew here, from its image (a new
root disk) or its root volume, with its volumes and its ports (already
bound here by the API), as a build would; a server that was stopped is
left stopped. Its volumes are first taken from the source host (its
export there ends; the data stays on the volume).

On the source, when its agent comes back: the guests of servers
evacuated away are destroyed with their instance folders (their volumes
and ports belong to the destination now and are not touched), the host's
network plumbing follows the records, and each evacuation is 'completed'.

On the destination after a restart: an evacuation it was running is
reported failed (ERROR with a fault), whatever it had made removed.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from common import instance_states as st
from common import rpc
from common.conf import CONF

LOG = logging.getLogger(__name__)

EVENT = 'compute_rebuild_instance'
TYPE = 'evacuation'
TASKS = (st.REBUILDING, st.REBUILD_SPAWNING)


def is_evacuation(inst):
    """An instance the records say is being evacuated to this host."""
    return inst['task_state'] in TASKS and \
        (inst.get('migration') or {}).get('migration_type') == TYPE


class Evacuations:
    def __init__(self, manager):
        self.mgr = manager

    @property
    def driver(self):
        return self.mgr.driver

    def _report(self, ctx, inst, migration, ok, message=None):
        state = self.mgr.guests.power_state(inst)
        try:
            return rpc.call_until_answered(
                lambda: self.mgr.conductor.evacuate_report(ctx, inst['uuid'], migration['uuid'],
                                                           ok, state, message=message),
                'the evacuation report of %s' % inst['uuid'])
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting the evacuation of %s; the restart reconcile will',
                      inst['uuid'])
            return None

    # -- destination ---------------------------------------------------------
    def _take_volumes(self, ctx, block_devices, source):
        """End the source host's connection to each volume (its agent is
        down and cannot): an NBD export it had is removed, so the volume
        can be opened here."""
        for bd in block_devices:
            try:
                self.mgr.block.volumes.terminate_connection(ctx, bd['volume'],
                                                            {'host': source, 'ip': None})
            except Exception:  # noqa: BLE001 - connecting here will tell
                LOG.warning('Could not end the connection of volume %s on %s',
                            bd['volume']['id'], source, exc_info=True)

    def rebuild(self, ctx, inst, migration, network_info):
        """Build the evacuated server here and report the outcome."""
        mgr = self.mgr
        if not mgr.reports.begin_spawn(ctx, inst, EVENT, 'evacuation'):
            return
        inst = dict(inst, task_state=st.REBUILD_SPAWNING)
        block_devices = inst.get('block_devices') or []
        try:
            if network_info and not mgr.netsync.sync(ctx):
                raise RuntimeError('The host network for the server could not be set up.')
            self._take_volumes(ctx, block_devices, migration['source_compute'])
            mgr.guests.spawn(ctx, inst, block_devices, network_info)
        except Exception as e:  # noqa: BLE001 - any failure: ERROR with a fault
            LOG.exception('Evacuation of %s to %s failed', inst['uuid'], mgr.host)
            self._undo(ctx, inst, block_devices)
            message = 'Evacuation to %s failed: %s' % (mgr.host, str(e) or type(e).__name__)
            self._report(ctx, inst, migration, False, message=message)
            mgr.reports.event(ctx, inst, EVENT, 'finish', result='Error', details=message[:500])
            if network_info:
                mgr.netsync.sync(ctx)  # the ports went back to the source
            return
        if migration.get('vm_state_before') == st.STOPPED:
            try:  # as Nova: a stopped server evacuated stays stopped
                self.driver.power_off(inst, timeout=0)
            except Exception:  # noqa: BLE001 - the records follow the power state
                LOG.exception('Could not stop evacuated server %s', inst['uuid'])
        self._report(ctx, inst, migration, True)
        mgr.reports.event(ctx, inst, EVENT, 'finish', details=mgr.host)

    def _undo(self, ctx, inst, block_devices):
        try:
            self.driver.destroy(ctx, inst, network_info=[], cleanup=True)
        except Exception:  # noqa: BLE001 - spawn already leaves nothing on failure
            LOG.exception('Could not remove what the evacuation of %s made', inst['uuid'])
        self.mgr.block.disconnect_failed_build(ctx, block_devices)

    def settle(self, ctx, inst, exists):
        """After a restart of this (destination) agent: the evacuation it
        was running failed."""
        if exists:
            LOG.warning('Removing the half-made guest of evacuated server %s', inst['uuid'])
        self._undo(ctx, inst, inst.get('block_devices') or [])
        self._report(ctx, inst, inst['migration'], False,
                     message='The compute agent of %s restarted during the evacuation.'
                     % self.mgr.host)
        self.mgr.netsync.sync(ctx)

    # -- source ---------------------------------------------------------------
    def clean_leftovers(self, ctx):
        """Destroy the guests (and instance folders) of servers evacuated
        away from this host while it was down, and mark each evacuation
        completed. Returns the uuids whose guests were removed."""
        removed = set()
        for evac in self.mgr.conductor.get_host_evacuations(
                ctx, self.mgr.host, timeout=CONF.report_interval * 2):
            uuid = evac['instance_uuid']
            if evac['instance_host'] != self.mgr.host:  # it may have come back since
                LOG.warning('Server %s was evacuated to %s: removing its guest here', uuid,
                            evac['dest_compute'])
                with self.mgr.guests.lock(uuid):
                    self.driver.destroy(ctx, {'uuid': uuid}, network_info=[], cleanup=True)
                removed.add(uuid)
            self.mgr.conductor.evacuation_cleaned(ctx, evac['uuid'])
        if removed:
            self.mgr.netsync.sync(ctx)  # their ports are bound elsewhere now
        return removed

