"""What a compute agent tells the records of its instances: state changes,
action events and the steps of a resize. The agent holds no database
credentials; each report goes over RPC and the ones that matter are
retried while the other side is away.

One StateReports per agent (ComputeManager.reports); the agent's flows
(build, power actions, resize, moves, evacuation, live migration,
snapshots, the restart reconcile) report through it.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from common import instance_states as st
from common import rpc
from compute import agent_part

LOG = logging.getLogger(__name__)


class StateReports(agent_part.AgentPart):
    def update(self, ctx, instance, values, expected=None, retries=5):
        """Report a state change; retried while the scheduler is away."""
        try:
            return rpc.call_until_answered(
                lambda: self.conductor.instance_update(ctx, instance['uuid'], values,
                                                       expected_task_states=expected),
                'an update of %s' % instance['uuid'], tries=retries)
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting %s for %s; the power sync will', values,
                      instance['uuid'])
            return None

    def event(self, ctx, instance, event, phase, result=None, details=None):
        """Record the ``phase`` ('start' or 'finish') of an action's event;
        a failure to record it is logged, never raised."""
        try:
            self.conductor.instance_event(ctx, instance['uuid'], event, phase, result=result,
                                          details=details, host=self.host)
        except Exception:  # noqa: BLE001 - the log of events is not worth a failed action
            LOG.warning('Could not record event %s of %s', event, instance['uuid'],
                        exc_info=True)

    def begin_spawn(self, ctx, inst, event, what):
        """Start ``event`` and move a REBUILDING server on to
        REBUILD_SPAWNING; False (the event marked Error) when it changed
        before this agent got to it (a rebuild or an evacuation)."""
        self.event(ctx, inst, event, 'start')
        if self.update(ctx, inst, {'task_state': st.REBUILD_SPAWNING},
                       expected=[st.REBUILDING]) is not None:
            return True
        LOG.info('%s of %s cancelled: it changed before we started', what.capitalize(),
                 inst['uuid'])
        self.event(ctx, inst, event, 'finish', result='Error',
                   details='The server changed before the %s started.' % what)
        return False

    def resize_step(self, ctx, inst, migration, step, ok, message=None, state=None):
        """Report a ``step`` of a resize or move ('resize', 'confirm',
        'revert') and whether it went ``ok``, with the guest's power state
        (asked of the driver unless given); None when the records moved on or
        the scheduler never answered."""
        state = self.agent.guests.power_state(inst) if state is None else state
        try:
            return rpc.call_until_answered(
                lambda: self.conductor.resize_report(ctx, inst['uuid'], migration['uuid'],
                                                     step, ok, state, message=message),
                'the %s report of %s' % (step, inst['uuid']))
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting the %s of %s; the restart reconcile will', step,
                      inst['uuid'])
            return None
