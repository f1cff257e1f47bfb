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
from conductor import endpoints
from conductor import evacuate
from conductor import nodes
from conductor import records
from conductor import snapshots
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)


class ConductorManager(endpoints.RecordKeeping):
    target = messaging.Target(version='1.1')

    def ping(self, context):
        return {'service': 'conductor', 'host': CONF.host}

    def register_node(self, context, name, secret, my_ip):
        """A new compute node presents its join token (once): {'name',
        'state': 'joined'}, or {'error': what is wrong and what to do}."""
        try:
            return nodes.consume(name, join_token.secret_hash(secret), my_ip)
        except nodes.JoinRefused as e:
            LOG.warning('Join of %s from %s refused: %s', name, my_ip, e.message)
            return {'error': e.message}

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
