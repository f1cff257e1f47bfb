"""A compute agent's reconcile after a (re)start: libvirt and the records
made to agree. A guest the records do not know is removed; each instance the
records place here is settled from where it was left: an action cut short
rests in what the hypervisor says, a flow cut short (resize, move,
evacuation, live migration, snapshot, delete) is finished or undone by
that flow's own settle.

One Reconcile per agent (ComputeManager.reconciler); the agent runs it
from its resource report until it has worked once.
"""

from oslo_log import log as logging

from common import context as ctx_mod
from common import instance_states as st
from common.conf import CONF
from compute import agent_part
from compute import evacuate
from compute import guests
from compute.virt import power_state

LOG = logging.getLogger(__name__)
# Task states an agent that restarted finds its instances in, and what
# they rest in once the agent has looked at the guest.
_INTERRUPTED = {st.POWERING_OFF, st.POWERING_ON, st.REBOOTING, st.REBOOTING_HARD,
                st.PAUSING, st.UNPAUSING, st.SUSPENDING, st.RESUMING}
# A rebuild cut short may have left either root disk in place: ERROR, from
# which the owner can rebuild again.
_INTERRUPTED_REBUILD = {st.REBUILDING, st.REBUILD_SPAWNING}


class Reconcile(agent_part.AgentPart):
    def run(self):
        """Make libvirt and the records agree after a (re)start."""
        ctx = ctx_mod.get_admin_context()
        self.agent.evacuations.clean_leftovers(ctx)
        known = {i['uuid']: i for i in self.conductor.get_host_instances(
            ctx, self.host, timeout=CONF.report_interval * 2)}
        running = set(self.driver.list_instance_uuids())
        for uuid in running - set(known):
            LOG.warning('Orphan guest %s is not in the records: removing it', uuid)
            try:
                self.driver.destroy(ctx, {'uuid': uuid}, cleanup=True)
            except Exception:  # noqa: BLE001
                LOG.exception('Could not remove orphan guest %s', uuid)
        for uuid, inst in known.items():
            self.settle(ctx, inst, uuid in running)

    def settle(self, ctx, inst, exists):
        """Settle one instance of the records after a restart; ``exists``:
        whether its guest is defined here."""
        agent = self.agent
        update = agent.reports.update
        task = inst['task_state']
        if agent.moves.moved_away(inst):  # its old guest waits here for the confirm
            agent.moves.init_moved_away(ctx, inst, exists)
            return
        if task == st.DELETING:
            agent.guests.terminate(ctx, inst)
            return
        if task in st.RESIZE_TASKS:
            agent.resizes.settle(ctx, inst, exists)
            return
        if evacuate.is_evacuation(inst):
            agent.evacuations.settle(ctx, inst, exists)
            return
        if task == st.MIGRATING:
            agent.live_migrations.settle(ctx, inst, exists)
            return
        if inst['vm_state'] == st.BUILDING:
            if exists:
                self.driver.destroy(ctx, inst, cleanup=True)
            update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                               'fault': {'code': 500, 'message':
                                         'The compute agent restarted during the build.'}})
            return
        if task in st.IMAGE_TASK_STATES:
            agent.snapshots.settle(ctx, inst, exists)
        if not exists:
            if inst['vm_state'] in (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED,
                                    st.RESIZED):
                LOG.error('Guest of %s is gone from the hypervisor', inst['uuid'])
                update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                                   'power_state': power_state.NOSTATE,
                                   'fault': {'code': 500, 'message':
                                             'The guest was lost on host %s.' % self.host}})
            elif task in _INTERRUPTED | _INTERRUPTED_REBUILD:  # an ERROR server's action
                update(ctx, inst, {'task_state': None, 'power_state': power_state.NOSTATE})
            return
        if task in _INTERRUPTED:
            state = self.driver.get_info(inst)['state']
            update(ctx, inst, {'vm_state': guests.resting_vm_state(state), 'task_state': None,
                               'power_state': state})
        elif task in _INTERRUPTED_REBUILD:
            update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                               'power_state': agent.guests.power_state(inst),
                               'fault': {'code': 500, 'message': 'The compute agent '
                                         'restarted during the rebuild.'}})
        agent.block.settle(ctx, inst)
