"""Resize, confirmResize and revertResize, with Nova's codes, on the
server's own host.

resize checks the new flavor (another one, not a smaller root disk), takes
the quota the growth needs and a second claim on the host for the new
flavor (common.db.resizes), then casts to the agent, which redefines the
guest and reports VERIFY_RESIZE. A host without room for both flavors
leaves the server where it was, with an Error event and a fault that say so.
"""

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log as logging

from api import http
from api.compute import flavors as flavors_api
from common import exception
from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from common.db import resizes
from compute import rpcapi as compute_rpcapi
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)

SCHEMAS = {
    'resize': {'type': 'object', 'required': ['flavorRef'], 'additionalProperties': False,
               'properties': {'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
                              'OS-DCF:diskConfig': {'enum': ['AUTO', 'MANUAL']}}},
    'confirmResize': {'type': 'null'},
    'revertResize': {'type': 'null'},
}


class CannotResizeDisk(exception.BadRequest):
    msg_fmt = 'Resize error: %(reason)s'


def _new_flavor(ctx, ref):
    with db_api.reader() as s:
        try:
            flavor = flavors_api.find(s, ctx, str(ref).rsplit('/', 1)[-1])
        except exception.NotFound:
            raise exception.BadRequest('Unable to find flavor %s.' % ref) from None
        specs = {r.key: r.value for r in s.scalars(sa.select(cm.FlavorExtraSpec).where(
            cm.FlavorExtraSpec.flavor_id == flavor.id))}
    if flavor.disabled:
        raise exception.BadRequest('Flavor %s is disabled.' % flavor.flavorid)
    return flavors_api.to_dict(flavor, specs)


def _check_flavor(inst, new):
    old = inst.flavor or {}
    if new['flavorid'] == old.get('flavorid'):
        raise exception.BadRequest('The server already has this flavor: a resize needs '
                                   'another one, not the same flavor.')
    if inst.image_ref:  # a volume-backed root disk is not the flavor's
        new_gb = new.get('root_gb') or 0
        if new_gb < (inst.root_gb or 0) or (not new_gb and old.get('root_gb')):
            raise CannotResizeDisk(reason='Unable to resize disk down.')
    if new.get('ephemeral_gb', 0) < old.get('ephemeral_gb', 0):
        raise CannotResizeDisk(reason='Unable to resize ephemeral disk down.')


def _cast(ctx, inst, method, migration, undo):
    """Cast to the server's agent; if the cast cannot leave, ``undo`` puts
    the books back and the caller hears 503."""
    try:
        getattr(compute_rpcapi.ComputeAPI(), method)(ctx, inst.host, instances.to_dict(inst),
                                                     migration=migration)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.error('Could not ask %s to %s %s: %s', inst.host, method, inst.uuid, e)
        undo()
        instances.event_finish(ctx.request_id, inst.uuid, 'compute_%s' % method,
                               result='Error', details='The compute service could not be '
                               'reached.')
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % inst.host) from None


def chooser(ctx, inst, requested_host=None, allow_same_host=False):
    """The ``choose`` of common.db.resizes.start: the scheduler claims room
    on a destination under the migration's uuid."""
    def choose(migration_uuid, flavor):
        return scheduler_rpcapi.SchedulerAPI().select_destination(
            ctx, inst.uuid, migration_uuid, flavor, requested_host=requested_host,
            allow_same_host=allow_same_host)
    return choose


def _resize(ctx, inst, body):
    if not inst.host or not st.allowed('resize', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState('resize', inst.uuid, inst.vm_state,
                                             inst.task_state)
    new = _new_flavor(ctx, body['flavorRef'])
    _check_flavor(inst, new)
    try:
        inst, migration = resizes.start(ctx, inst, new, chooser(
            ctx, inst, requested_host=inst.host, allow_same_host=True))
    except resizes.NoRoom:
        return None  # 202, as Nova: the action's event and the fault tell why

    def undo():
        resizes.failed(inst.uuid, migration['uuid'], inst.power_state,
                       'The compute service could not be reached.', [st.RESIZE_PREP])
    _cast(ctx, inst, 'resize_instance', migration, undo)
    return None


def _open_migration(inst, action):
    mig = resizes.get_open(inst.uuid)
    if mig is None or mig.status != resizes.FINISHED:
        raise instances.InstanceInvalidState(action, inst.uuid, inst.vm_state,
                                             inst.task_state)
    return mig


def _finish(ctx, inst, action, status, task_state, method):
    """confirmResize / revertResize: the open resize moves to ``status``
    and the agent is asked to ``method``; a cast that fails puts both back."""
    if not st.allowed(action, inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState(action, inst.uuid, inst.vm_state,
                                             inst.task_state)
    mig = _open_migration(inst, action)
    inst = instances.begin_action(ctx, inst.uuid, action)
    resizes.set_status(mig.uuid, status, expected=[resizes.FINISHED])

    def undo():
        resizes.set_status(mig.uuid, resizes.FINISHED, expected=[status])
        instances.update(inst.uuid, {'task_state': None}, task_states=[task_state])
    _cast(ctx, inst, method, resizes.to_dict(resizes.get(mig.uuid)), undo)


def _confirm(ctx, inst, _body):
    _finish(ctx, inst, 'confirmResize', resizes.CONFIRMING, st.RESIZE_CONFIRMING,
            'confirm_resize')
    return http.reply(status=204)


def _revert(ctx, inst, _body):
    _finish(ctx, inst, 'revertResize', resizes.REVERTING, st.RESIZE_REVERTING,
            'revert_resize')
    return None


HANDLERS = {'resize': _resize, 'confirmResize': _confirm, 'revertResize': _revert}
