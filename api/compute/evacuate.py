"""The evacuate server action, with Nova's codes (admin only by default):
a server whose host is down is rebuilt on another host from its image (a
new root disk) or its root volume, keeping its volumes and its ports.

400 while the server's compute service is up ("Compute service of H is
still in use."), for the server's own host as target, for a shared-storage
evacuation (not offered: the root disk is always made anew), and when no
host can take the server; 404 for a target host that is not a compute
host; 409 when the state table refuses. The records: conductor.evacuations;
the destination's agent: compute/evacuate.py.
"""

import uuid as uuid_mod

import oslo_messaging as messaging
from oslo_log import log as logging

from api import http
from api import microversion
from api.compute import resize
from api.compute import schema_types as types
from api.compute import servers
from blockstore import attachments
from common import exception
from common import instance_states as st
from common import servicegroup
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import evacuations
from conductor import resizes

LOG = logging.getLogger(__name__)

ACTION = 'evacuate'
# 2.1: onSharedStorage required; 2.14: gone (and no adminPass answer);
# 2.29: force.
_v21 = {'type': 'object', 'required': ['onSharedStorage'], 'additionalProperties': False,
        'properties': {'host': types.FQDN, 'onSharedStorage': types.BOOLEAN,
                       'adminPass': {'type': 'string'}}}
_v214 = {'type': 'object', 'additionalProperties': False,
         'properties': {'host': types.FQDN, 'adminPass': {'type': 'string'}}}
_v229 = dict(_v214, properties=dict(_v214['properties'], force=types.BOOLEAN))
SCHEMA = [('2.1', _v21), ('2.14', _v214), ('2.29', _v229)]


def _check_body(body):
    if types.to_bool(body.get('onSharedStorage', False)):
        raise exception.BadRequest('Evacuation on shared storage is not supported: '
                                   'the server is rebuilt from its image (volumes '
                                   'keep their data).')


def _check_target(inst, host):
    if host is None:
        return
    if not servicegroup.list_services(binary='nova-compute', host=host):
        raise exception.NotFound('Compute host %s could not be found.' % host)
    if host == inst.host:
        raise exception.BadRequest("The target host can't be the same one.")


def evacuate(ctx, inst, body):
    _check_body(body)
    if not inst.host or not st.allowed(ACTION, inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState(ACTION, inst.uuid, inst.vm_state,
                                             inst.task_state)
    host = body.get('host')
    _check_target(inst, host)
    if servers.host_up(inst.host):
        raise exception.BadRequest('Compute service of %s is still in use.' % inst.host)
    # force (2.29) would skip the scheduler's check of the named host; the
    # scheduler still claims room there, so it is only accepted.
    try:
        inst, migration, network_info = evacuations.start(
            ctx, inst, resize.chooser(ctx, inst, requested_host=host))
    except resizes.NoRoom as e:
        raise exception.BadRequest('Unable to evacuate server %s: %s' % (inst.uuid, e)) \
            from None
    payload = dict(instances.to_dict(inst),
                   block_devices=attachments.instance_block_devices(inst.uuid))
    dest = migration['dest_compute']
    try:
        compute_rpcapi.ComputeAPI().evacuate_instance(ctx, dest, payload, migration=migration,
                                                      network_info=network_info)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        LOG.error('Could not ask %s to rebuild evacuated %s: %s', dest, inst.uuid, e)
        evacuations.failed(inst.uuid, migration['uuid'], inst.power_state,
                           'The compute service of %s could not be reached.' % dest)
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % dest) from None
    LOG.info('Evacuating %s from %s to %s', inst.uuid, migration['source_compute'], dest)
    if microversion.at_least('2.14'):
        return http.reply(status=200)
    # As on create: the password is not set in the guest (no agent does it).
    return http.reply({'adminPass': body.get('adminPass') or uuid_mod.uuid4().hex[:12]},
                      status=200)
