"""A compute agent's guests: their locks, their power state as the
hypervisor tells it, and how one is made (a build, or the spawn of an
evacuation) and removed (terminate).

One Guests per agent (ComputeManager.guests); the agent's endpoints and
flows take an instance's lock and spawn or remove its guest through it.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from common import instance_states as st
from common import rpc
from compute import agent_part
from compute.virt import locks
from compute.virt import power_state

LOG = logging.getLogger(__name__)
# Where a guest rests, by what the hypervisor says of it (NOSTATE: unknown).
_RESTING = {power_state.RUNNING: st.ACTIVE, power_state.PAUSED: st.PAUSED,
            power_state.SUSPENDED: st.SUSPENDED, power_state.SHUTDOWN: st.STOPPED,
            power_state.CRASHED: st.STOPPED}


def resting_vm_state(state, default=st.STOPPED):
    """The vm_state a guest in power ``state`` rests in."""
    return _RESTING.get(state, default)


class Guests(agent_part.AgentPart):
    def __init__(self, agent):
        super().__init__(agent)
        self._locks = locks.KeyedLocks()

    def lock(self, uuid):
        """``with guests.lock(uuid):`` serialises the actions on one
        instance (an endpoint, a flow's step, the power sync)."""
        return self._locks(uuid)

    def power_state(self, inst):
        """The power state the driver gives the guest of ``inst``; NOSTATE
        when it cannot tell (the guest is gone, the hypervisor did not
        answer)."""
        try:
            return self.driver.get_info(inst)['state']
        except Exception:  # noqa: BLE001
            return power_state.NOSTATE

    # -- build ---------------------------------------------------------------
    def build(self, ctx, inst):
        """Build ``inst`` (task scheduling) here and report the outcome: a
        failure goes back to the scheduler, which tries another host."""
        reports = self.agent.reports
        uuid = inst['uuid']
        if reports.update(ctx, inst, {'task_state': st.SPAWNING},
                          expected=[st.SCHEDULING]) is None:
            LOG.info('Build of %s cancelled: it changed before we started', uuid)
            return
        reports.event(ctx, inst, 'compute_build_and_run_instance', 'start')
        block_devices = inst.get('block_devices') or []
        try:
            network_info = inst.get('network_info') or []
            if network_info and not self.agent.netsync.sync(ctx):
                raise RuntimeError('The host network for the server could not be set up.')
            self.spawn(ctx, inst, block_devices, network_info)
        except Exception as e:  # noqa: BLE001 - any failure: reschedule elsewhere
            LOG.exception('Build of %s failed on %s', uuid, self.host)
            self.block.disconnect_failed_build(ctx, block_devices)
            reports.event(ctx, inst, 'compute_build_and_run_instance', 'finish',
                          result='Error', details=str(e)[:500])
            self.conductor.build_failed(ctx, uuid, self.host, str(e) or type(e).__name__)
            if inst.get('network_info'):
                self.agent.netsync.sync(ctx)  # the ports moved on: drop their DHCP entries
            return
        done = reports.update(ctx, inst, {'vm_state': st.ACTIVE, 'task_state': None,
                                          'power_state': power_state.RUNNING,
                                          'launched_at': 'now'}, expected=[st.SPAWNING])
        if done is None:
            if self._still_spawning(ctx, uuid):
                # The report was lost (the bus away), not refused: the guest
                # stays; the power sync records the build's end.
                LOG.warning('The end of the build of %s was not recorded; the power '
                            'sync will record it', uuid)
                return
            # Deleted while we spawned: the delete is on its way to us (or the
            # records were already closed); take the guest down now.
            LOG.info('Instance %s went away during its build; removing the guest', uuid)
            self.driver.destroy(ctx, inst, cleanup=True)
            return
        reports.event(ctx, inst, 'compute_build_and_run_instance', 'finish')

    def _still_spawning(self, ctx, uuid):
        """Do the records still have ``uuid`` spawning here? True when the
        conductor cannot be asked (then nothing is known to be gone)."""
        try:
            rows = self.conductor.get_host_instances(ctx, self.host)
        except messaging.MessagingException:
            return True
        return any(r['uuid'] == uuid and r['task_state'] == st.SPAWNING for r in rows)

    def finish_lost_build(self, ctx, inst):
        """A build the records have spawning here that no build of this
        agent runs (its end was never recorded: the bus was away): a
        running guest is recorded ACTIVE; otherwise the build failed and
        goes back to the scheduler, any guest left taken down. Call with
        the instance's lock held."""
        uuid = inst['uuid']
        if self.power_state(inst) == power_state.RUNNING:
            LOG.warning('The build of %s ended unrecorded; its guest runs: ACTIVE', uuid)
            self.agent.reports.update(ctx, inst, {
                'vm_state': st.ACTIVE, 'task_state': None, 'power_state': power_state.RUNNING,
                'launched_at': 'now'}, expected=[st.SPAWNING])
            return
        LOG.warning('The build of %s ended unrecorded and left no running guest', uuid)
        try:
            self.driver.destroy(ctx, inst, cleanup=True)
        except Exception:  # noqa: BLE001 - nothing there to take down
            LOG.debug('No guest of %s to remove', uuid, exc_info=True)
        self.conductor.build_failed(ctx, uuid, self.host, 'The build on %s ended without '
                                    'being recorded (the message bus was away) and left no '
                                    'running guest.' % self.host)

    def spawn(self, ctx, inst, block_devices, network_info):
        """A new guest for ``inst`` here (a build or an evacuation; its
        network already plumbed): its volumes connected, its disk from its
        image (or its root volume), then the volumes marked attached. Raises
        on any failure; the caller cleans up and reports."""
        bdi = self.block.connect_for_build(ctx, block_devices)
        if inst.get('image_ref'):
            image = self.agent.images.get_image_for_download(ctx, inst['image_ref'])
            with self.agent.cache.using(image) as base:
                self.driver.spawn(ctx, inst, image, base, network_info=network_info,
                                  block_device_info=bdi)
        else:  # booted from a volume: its root volume is its disk
            self.driver.spawn(ctx, inst, {}, None, network_info=network_info,
                              block_device_info=bdi)
        self.block.complete_build(ctx, inst, block_devices)

    # -- terminate -----------------------------------------------------------
    def terminate(self, ctx, inst):
        """Remove the guest of ``inst`` and what it holds here (its files,
        its volumes' connections) and report it deleted."""
        self.driver.destroy(ctx, inst, network_info=[], cleanup=True)
        self.block.release_all(ctx, inst)
        try:
            rpc.call_until_answered(
                lambda: self.conductor.instance_deleted(ctx, inst['uuid'], self.host),
                'the deletion of %s' % inst['uuid'])
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting the deletion of %s; the restart reconcile will',
                      inst['uuid'])
        self.agent.netsync.sync(ctx)  # its ports are gone from the records now
