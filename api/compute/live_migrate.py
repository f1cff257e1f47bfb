"""os-migrateLive: move a running server to another host without stopping
it (admin only, as Nova).

Unlike Nova from 2.34 on, the destination is chosen and claimed before the
answer (the scheduler's select_destination under the migration's uuid,
conductor.live_migrations), and the destination is asked whether its
libvirtd takes incoming migrations: a server that cannot go anywhere is a
400 that says why, host by host, and stays ACTIVE where it is. Then the
source's agent is asked to migrate (compute/live_migration.py) and the
answer is 202; the server shows MIGRATING until it runs on the destination
(ACTIVE there) or, if the move fails, on its source again.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from api.compute import resize
from api.compute import schema_types as types
from common import exception
from common import instance_states as st
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import live_migrations
from conductor import resizes

LOG = logging.getLogger(__name__)

ACTION = 'os-migrateLive'
# How long the API waits for the destination to say it can take the guest.
CHECK_TIMEOUT = 20

_HOST = {'host': types.FQDN_OR_NULL}
# 2.1: block_migration and disk_over_commit booleans (also 'yes', 'off'...);
# 2.25: block_migration may be 'auto', no disk_over_commit; 2.30: force.
_v21 = {'type': 'object', 'required': ['block_migration', 'disk_over_commit', 'host'],
        'additionalProperties': False,
        'properties': dict(_HOST, block_migration=types.BOOLEAN,
                           disk_over_commit=types.BOOLEAN)}
_v225 = {'type': 'object', 'required': ['block_migration', 'host'],
         'additionalProperties': False,
         'properties': dict(_HOST, block_migration=dict(
             types.BOOLEAN, enum=types.BOOLEAN['enum'] + ['auto']))}
_v230 = dict(_v225, properties=dict(_v225['properties'], force=types.BOOLEAN))
SCHEMAS = {ACTION: [('2.1', _v21), ('2.25', _v225), ('2.30', _v230)]}


def _check_body(body):
    """(requested host or None, block_migration) of a body its versioned
    schema let through; force (2.30) is taken, and the host still checked
    for room: claims never overcommit."""
    block = body['block_migration']
    if block != 'auto' and not types.to_bool(block):
        raise exception.BadRequest('Live migration without block migration needs storage '
                                   'shared between the hosts; instance folders are not '
                                   'shared here: use block_migration true or auto.')
    return body.get('host'), block


def _undo(ctx, inst, migration, message):
    live_migrations.failed(inst.uuid, migration['uuid'], inst.power_state)
    # (the agent starts this event when it runs; here it ends before)
    instances.event_finish(ctx.request_id, inst.uuid, 'compute_live_migration',
                           result='Error', details=message, traceback=message)


def _check_destination(ctx, inst, dest):
    """None if ``dest`` takes the guest live, else why not."""
    try:
        return compute_rpcapi.ComputeAPI().check_live_migration_destination(
            ctx, dest, instances.to_dict(inst), timeout=CHECK_TIMEOUT)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.warning('Destination %s did not answer for %s: %s', dest, inst.uuid, e)
        return 'the compute service on %s did not answer' % dest


def migrate_live(ctx, inst, body):
    host, _block = _check_body(body)
    if not inst.host or not st.allowed('live_migrate', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState(ACTION, inst.uuid, inst.vm_state,
                                             inst.task_state)
    try:
        inst, migration = live_migrations.start(ctx, inst, resize.chooser(
            ctx, inst, requested_host=host,
            check=lambda dest: _check_destination(ctx, inst, dest)))
    except resizes.NoRoom as e:
        raise exception.BadRequest(str(e)) from None
    try:
        compute_rpcapi.ComputeAPI().live_migration(ctx, inst.host, instances.to_dict(inst),
                                                   migration=migration)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.error('Could not ask %s to live-migrate %s: %s', inst.host, inst.uuid, e)
        _undo(ctx, inst, migration, 'The compute service could not be reached.')
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % inst.host) from None
    return None


HANDLERS = {ACTION: migrate_live}
