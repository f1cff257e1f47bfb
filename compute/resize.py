"""Resize on a compute agent, and the dispatch of a resize's steps.

On this host the guest is redefined in place with the new flavor's vCPUs
and memory (its root disk grown, never shrunk); a migration whose
destination is another host goes to compute/coldmig.py. The records
(flavor, both claims, quota) are the conductor's: each step reports there
(conductor.resize / conductor.resizes).

One Resizes per agent (ComputeManager.resizes); its endpoints hold the
instance's lock around each call.
"""

from oslo_log import log as logging

from common import instance_states as st
from compute import agent_part
from compute import coldmig

LOG = logging.getLogger(__name__)


class Resizes(agent_part.AgentPart):
    def _to(self, ctx, inst, migration, step, flavor, power_on):
        """Redefine the guest with ``flavor`` and report the ``step``;
        False if the driver failed (reported as such)."""
        event = 'compute_%s' % ('resize_instance' if step == 'resize' else step + '_resize')
        try:
            self.driver.resize(ctx, dict(inst, flavor=flavor), [], power_on=power_on)
        except Exception as e:  # noqa: BLE001 - any failure: back to a resting state
            LOG.exception('%s of %s failed', event, inst['uuid'])
            message = '%s failed on %s: %s' % ('Resize' if step == 'resize' else 'Revert',
                                                self.host, e)
            self.reports.resize_step(ctx, inst, migration, step, False, message=message)
            self.reports.event(ctx, inst, event, 'finish', result='Error', details=message[:500])
            return False
        self.reports.resize_step(ctx, inst, migration, step, True)
        self.reports.event(ctx, inst, event, 'finish')
        return True

    def resize(self, context, instance, migration):
        """To the new flavor; a stopped server stays stopped (VERIFY_RESIZE)."""
        event = 'compute_resize_instance'
        self.reports.event(context, instance, event, 'start')
        if self.reports.update(context, instance, {'task_state': st.RESIZE_MIGRATING},
                               expected=[st.RESIZE_PREP]) is None:
            LOG.info('Resize of %s cancelled: it changed before we started',
                     instance['uuid'])
            self.reports.event(context, instance, event, 'finish', result='Error',
                               details='The server changed before the resize started.')
            return
        instance = dict(instance, task_state=st.RESIZE_MIGRATING)
        if coldmig.is_move(migration):
            self.agent.moves.send(context, instance, migration)
            return
        self._to(context, instance, migration, 'resize', migration['new_flavor'],
                 power_on=instance['vm_state'] != st.STOPPED)

    def confirm(self, context, instance, migration):
        """Nothing of the old flavor is left on this host (the guest was
        redefined in place): the records give back the old claim."""
        if coldmig.is_move(migration):  # sent to the source
            self.agent.moves.confirm(context, instance, migration)
            return
        self.reports.event(context, instance, 'compute_confirm_resize', 'start')
        self.reports.resize_step(context, instance, migration, 'confirm', True)
        self.reports.event(context, instance, 'compute_confirm_resize', 'finish')

    def revert(self, context, instance, migration):
        """Back to the old flavor's vCPUs and memory, running if it ran
        before the resize. A root disk the resize grew stays grown: qcow2
        cannot give a guest's blocks back safely, and a flavor's root_gb
        is a minimum for the guest."""
        if coldmig.is_move(migration):  # sent to the destination
            self.agent.moves.revert(context, instance, migration)
            return
        self.reports.event(context, instance, 'compute_revert_resize', 'start')
        self._to(context, instance, migration, 'revert', migration['old_flavor'],
                 power_on=migration.get('vm_state_before') != st.STOPPED)

    def settle(self, ctx, inst, exists):
        """After a restart: a resize cut short goes back to the old flavor
        (and its records with it), a confirm is finished, a revert redone."""
        migration = inst.get('migration')
        task = inst['task_state']
        if migration is None:  # the records have no open resize: just settle
            self.reports.update(ctx, inst, {'task_state': None,
                                            'power_state': self.agent.guests.power_state(inst)},
                                expected=[task])
            return
        if coldmig.is_move(migration):
            self.agent.moves.init_resize(ctx, inst, exists)
            return
        if task == st.RESIZE_CONFIRMING:
            self.reports.resize_step(ctx, inst, migration, 'confirm', True)
            return
        power_on = migration.get('vm_state_before') != st.STOPPED
        if task == st.RESIZE_REVERTING:
            if exists:
                self._to(ctx, inst, migration, 'revert', migration['old_flavor'], power_on)
            else:
                self.reports.resize_step(ctx, inst, migration, 'revert', False,
                                         message='The guest was lost on host %s.' % self.host)
            return
        if exists:
            try:
                self.driver.resize(ctx, dict(inst, flavor=migration['old_flavor']), [],
                                   power_on=power_on)
            except Exception:  # noqa: BLE001 - reported below as the resize's failure
                LOG.exception('Could not give %s its old flavor back', inst['uuid'])
        self.reports.resize_step(ctx, inst, migration, 'resize', False,
                                 message='The compute agent restarted during the resize.')
