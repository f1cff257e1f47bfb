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
        """Report a state change; retried while the conductor is away. The
        instance dict it ends as, or None when the records refused it (the
        server changed: deleted, another task)."""
        tries = []

        def call():
            tries.append(1)
            return self.conductor.instance_update(ctx, instance['uuid'], values,
                                                  expected_task_states=expected)
        try:
            out = rpc.call_until_answered(call, 'an update of %s' % instance['uuid'],
                                          tries=retries)
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting %s for %s; the power sync will', values,
                      instance['uuid'])
            return None
        if out is None and expected is not None and len(tries) > 1:
            return self._applied_unanswered(ctx, instance, values)
        return out

    def _applied_unanswered(self, ctx, instance, values):
        """A try that went unanswered may have been applied all the same
        (the conductor was killed between its commit and its answer): the
        retry is then refused, as the server is no longer in the expected
        task. When the records hold exactly this update's states, it was
        ours: the instance dict (not None, which would cancel a build that
        goes on, or take down the guest of a server now ACTIVE)."""
        states = {k: v for k, v in values.items()
                  if k in ('vm_state', 'task_state', 'power_state')}
        try:
            rows = self.conductor.get_host_instances(ctx, self.host)
        except messaging.MessagingTimeout:
            return None
        for row in rows:
            if row['uuid'] == instance['uuid'] and states and \
                    all(row.get(k) == v for k, v in states.items()):
                LOG.info('Update %s of %s was applied by a try whose answer was lost',
                         states, instance['uuid'])
                return row
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
