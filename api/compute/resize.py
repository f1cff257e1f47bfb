"""Resize, confirmResize and revertResize, with Nova's codes.

resize checks the new flavor (another one, not a smaller root disk), takes
the quota the growth needs and a second claim for the new flavor on the
host the scheduler chooses (conductor.resizes): the server's own host or
another ([DEFAULT] allow_resize_to_same_host; False: always another), then
casts to the server's agent, which redefines the guest in place or sends it
to the other host (compute/coldmig.py), and the server waits in
VERIFY_RESIZE. No host with room leaves the server where it was, with an
Error event and a fault that say so. After a move to another host, confirm
goes to the source (its old guest goes) and revert to the destination.
"""

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log as logging

from api import http
from api.compute import flavors as flavors_api
from blockstore import attachments
from common import exception
from common import instance_states as st
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import resizes
from scheduler import claims
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)
# Destinations a move tries when they refuse it (chooser's ``check``).
MAX_TRIES = 3

SCHEMAS = {
    'resize': {'type': 'object', 'required': ['flavorRef'], 'additionalProperties': False,
               'properties': {'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
                              'OS-DCF:diskConfig': {'enum': ['AUTO', 'MANUAL']}}},
    # Nova takes any value for these two.
    'confirmResize': {}, 'revertResize': {},
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


def _cast(ctx, inst, method, migration, undo, host=None):
    """Cast to the server's agent (or ``host``); if the cast cannot leave,
    ``undo`` puts the records back and the caller hears 503."""
    host = host or inst.host
    payload = dict(instances.to_dict(inst),
                   block_devices=attachments.instance_block_devices(inst.uuid))
    try:
        getattr(compute_rpcapi.ComputeAPI(), method)(ctx, host, payload, migration=migration)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.error('Could not ask %s to %s %s: %s', host, method, inst.uuid, e)
        undo()
        instances.event_finish(ctx.request_id, inst.uuid, 'compute_%s' % method,
                               result='Error', details='The compute service could not be '
                               'reached.')
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % host) from None


def chooser(ctx, inst, requested_host=None, allow_same_host=False, check=None):
    """The ``choose`` of conductor.resizes.start: the scheduler claims room
    on a destination under the migration's uuid. With ``check(host)``
    (None when the host takes the server, else why not), a host that
    refuses gives its claim back and the next best is tried, up to
    MAX_TRIES hosts, as Nova's conductor retries a live migration."""
    def choose(migration_uuid, flavor):
        refused = []
        while True:
            dest = scheduler_rpcapi.SchedulerAPI().select_destination(
                ctx, inst.uuid, migration_uuid, flavor, requested_host=requested_host,
                allow_same_host=allow_same_host, exclude_hosts=[h for h, _ in refused])
            why = check(dest['host']) if check and dest.get('host') else None
            if not why:
                if refused and not dest.get('host'):
                    dest['reason'] = '%s (refused: %s)' % (dest['reason'].rstrip('.'), '; '.join(
                        '%s: %s' % r for r in refused))
                return dest
            claims.release(migration_uuid)
            refused.append((dest['host'], why.rstrip('.')))
            if requested_host or len(refused) >= MAX_TRIES:
                return {'host': None, 'reason': 'No valid host was found. %s.' % '; '.join(
                    '%s: %s' % r for r in refused)}
    return choose


def _resize(ctx, inst, body):
    if not inst.host or not st.allowed('resize', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState('resize', inst.uuid, inst.vm_state,
                                             inst.task_state)
    new = _new_flavor(ctx, body['flavorRef'])
    _check_flavor(inst, new)
    try:
        inst, migration = resizes.start(ctx, inst, new, chooser(
            ctx, inst, allow_same_host=CONF.allow_resize_to_same_host))
    except resizes.NoRoom:
        return None  # 202, as Nova: the action's event and the fault tell why
    send(ctx, inst, migration)
    return None


def send(ctx, inst, migration):
    """Ask the server's agent to resize it in place or move it to the
    migration's destination (resize and migrate)."""
    def undo():
        resizes.failed(inst.uuid, migration['uuid'], inst.power_state,
                       'The compute service could not be reached.', [st.RESIZE_PREP])
    _cast(ctx, inst, 'resize_instance', migration, undo)


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
    # After a move: the source drops its old guest, the destination its new one.
    host = mig.source_compute if action == 'confirmResize' else inst.host
    inst = instances.begin_action(ctx, inst.uuid, action)
    resizes.set_status(mig.uuid, status, expected=[resizes.FINISHED])

    def undo():
        resizes.set_status(mig.uuid, resizes.FINISHED, expected=[status])
        instances.update(inst.uuid, {'task_state': None}, task_states=[task_state])
    _cast(ctx, inst, method, resizes.to_dict(resizes.get(mig.uuid)), undo, host=host)


def _confirm(ctx, inst, _body):
    _finish(ctx, inst, 'confirmResize', resizes.CONFIRMING, st.RESIZE_CONFIRMING,
            'confirm_resize')
    return http.reply(status=204)


def _revert(ctx, inst, _body):
    _finish(ctx, inst, 'revertResize', resizes.REVERTING, st.RESIZE_REVERTING,
            'revert_resize')
    return None


HANDLERS = {'resize': _resize, 'confirmResize': _confirm, 'revertResize': _revert}
