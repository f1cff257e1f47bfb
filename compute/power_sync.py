"""A compute agent's power sync: the records hear what the hypervisor says
of each resting guest (one that stopped, crashed or was paused on its own,
or that an action's report never reached the records).

One PowerSync per agent (ComputeManager.power_sync), run by its periodic
task once the agent has reconciled after its start.
"""

from oslo_log import log as logging

from common import context as ctx_mod
from common import instance_states as st
from compute import agent_part
from compute import guests
from compute.virt import power_state

LOG = logging.getLogger(__name__)


class PowerSync(agent_part.AgentPart):
    def _lost_build(self, ctx, inst):
        """A build spawning here: a build of this agent holds its lock while
        it runs; once the lock is ours and the records still say spawning,
        none does, and its end was lost."""
        with self.agent.guests.lock(inst['uuid']):
            fresh = [r for r in self.conductor.get_host_instances(ctx, self.host)
                     if r['uuid'] == inst['uuid']]
            if fresh and fresh[0]['vm_state'] == st.BUILDING and \
                    fresh[0]['task_state'] == st.SPAWNING:
                self.agent.guests.finish_lost_build(ctx, fresh[0])

    def run(self):
        """Tell the records what the hypervisor says of each resting guest."""
        ctx = ctx_mod.get_admin_context()
        for inst in self.conductor.get_host_instances(ctx, self.host):
            if inst['vm_state'] == st.BUILDING and inst['task_state'] == st.SPAWNING:
                self._lost_build(ctx, inst)
                continue
            if inst['task_state'] is not None or inst['vm_state'] not in (
                    st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED):
                continue
            with self.agent.guests.lock(inst['uuid']):
                try:
                    state = self.driver.get_info(inst)['state']
                except Exception:  # noqa: BLE001 - the guest vanished: next check reports
                    state = power_state.NOSTATE
                values = {}
                if state != inst['power_state']:
                    values['power_state'] = state
                vm_state = guests.resting_vm_state(state, default=inst['vm_state'])
                if vm_state != inst['vm_state']:
                    values['vm_state'] = vm_state
                if values:
                    LOG.info('Power sync of %s: %s', inst['uuid'], values)
                    self.agent.reports.update(ctx, inst, values, expected=[None])
