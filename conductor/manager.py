"""Conductor RPC endpoints. Thin: each hands off to a flow module.

The compute agents hold no database credentials: what they report of
their servers and of moves is written here (conductor.records and the
move flows), never in the scheduler, which only places servers."""

import oslo_messaging as messaging
from oslo_log import log as logging

from common import context as ctx_mod
from common import join_token
from common import periodic
from common.conf import CONF
from conductor import cloud
from conductor import endpoints
from conductor import evacuate
from conductor import nodes
from conductor import records
from conductor import snapshots
from conductor import stranded_builds
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)


class ConductorManager(endpoints.RecordKeeping):
    target = messaging.Target(version='1.3')

    def ping(self, context):
        return {'service': 'conductor', 'host': CONF.host}

    def register_node(self, context, name, secret, my_ip):
        """A new node presents its join token (once): {'name', 'state':
        'joined', 'role'}, or {'error': what is wrong and what to do}. A
        controller gets the cloud's shared part too ('bundle':
        conductor/cloud.py), only now that its token is accepted; a storage
        machine what makes its OSD ('bundle'), a compute node its Ceph
        client files ('ceph', where the cloud has Ceph)."""
        try:
            out = nodes.consume(name, join_token.secret_hash(secret), my_ip)
        except nodes.JoinRefused as e:
            LOG.warning('Join of %s from %s refused: %s', name, my_ip, e.message)
            return {'error': e.message}
        try:
            if out['role'] == 'control':
                out['bundle'] = cloud.control_bundle()
            elif out['role'] == 'storage':
                out['bundle'] = cloud.storage_bundle()
            elif ceph := cloud.compute_ceph():
                out['ceph'] = ceph
        except cloud.CloudError as e:
            LOG.error('Node %s (%s) joined but gets nothing: %s', name, out['role'], e)
            return {'error': 'the controller that accepted the token (%s) cannot hand '
                             'out the cloud\'s files: %s' % (CONF.host, e)}
        return out

    def add_to_fronts(self, context, name):
        """On the load balancer's machine (called at its host): put the
        controller ``name``, which joined, in the HAProxy fronts.
        {'controls': [names]} or {'error': why not}."""
        try:
            return {'controls': cloud.add_to_fronts(name)}
        except cloud.CloudError as e:
            LOG.error('Controller %s not added to the fronts: %s', name, e)
            return {'error': str(e)}

    def refresh_fronts(self, context):
        """On the load balancer's machine: the fronts over the controllers
        joined now (after one was removed). {'controls': [names]} or
        {'error': why not}."""
        try:
            return {'controls': cloud.refresh_fronts()}
        except cloud.CloudError as e:
            LOG.error('Fronts not rewritten: %s', e)
            return {'error': str(e)}

    def build_failed(self, context, uuid, host, message, reschedule=True):
        if records.build_failed(context, uuid, host, message, CONF.scheduler.max_attempts,
                                reschedule=reschedule):
            scheduler_rpcapi.SchedulerAPI().build_instances(context, [uuid])

    def snapshot_volume_backed(self, context, instance_uuid, image_id, upload_url,
                               snapshot_ids):
        snapshots.finish_volume_backed(context, instance_uuid, image_id, upload_url,
                                       snapshot_ids)

    @periodic.periodic(lambda: CONF.service_down_time)
    def fail_stranded_evacuations(self):
        evacuate.fail_stranded(ctx_mod.get_admin_context())

    @periodic.periodic(lambda: CONF.service_down_time)
    def redrive_stranded_builds(self):
        stranded_builds.redrive(ctx_mod.get_admin_context(), scheduler_rpcapi.SchedulerAPI())
