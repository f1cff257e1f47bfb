"""Conductor RPC endpoints. Thin: each hands off to a flow module.

The compute agents hold no database credentials: what they report of
their servers and of moves is written here (conductor.records and the
move flows), never in the scheduler, which only places servers."""

import oslo_messaging as messaging
from oslo_log import log as logging

from common import context as ctx_mod
from common import periodic
from common.conf import CONF
from conductor import evacuate
from conductor import live_migration
from conductor import records
from conductor import resize
from conductor import snapshots
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)


class ConductorManager:
    target = messaging.Target(version='1.0')

    def ping(self, context):
        return {'service': 'conductor', 'host': CONF.host}

    def instance_event(self, context, uuid, event, phase, result=None, details=None,
                       host=None):
        records.instance_event(context, uuid, event, phase, result=result, details=details,
                               host=host)

    def build_failed(self, context, uuid, host, message, reschedule=True):
        if records.build_failed(context, uuid, host, message, CONF.scheduler.max_attempts,
                                reschedule=reschedule):
            scheduler_rpcapi.SchedulerAPI().build_instances(context, [uuid])

    def instance_update(self, context, uuid, values, expected_task_states=None):
        return records.instance_update(context, uuid, values,
                                       expected_task_states=expected_task_states)

    def instance_deleted(self, context, uuid, host):
        return records.instance_deleted(context, uuid, host)

    def get_host_instances(self, context, host):
        return records.get_host_instances(host)

    def get_host_network_state(self, context, host):
        return records.get_host_network_state(host)

    def resize_report(self, context, uuid, migration_uuid, step, ok, power_state,
                      message=None):
        return resize.report(context, uuid, migration_uuid, step, ok, power_state,
                             message=message)

    def bind_moving_ports(self, context, uuid, host):
        return resize.bind_moving_ports(context, uuid, host)

    def evacuate_report(self, context, uuid, migration_uuid, ok, power_state, message=None):
        return evacuate.report(context, uuid, migration_uuid, ok, power_state,
                               message=message)

    def get_host_evacuations(self, context, host):
        return evacuate.leftovers(host)

    def evacuation_cleaned(self, context, migration_uuid):
        return evacuate.cleaned(migration_uuid)

    def live_migration_report(self, context, uuid, migration_uuid, step, ok, power_state,
                              message=None):
        return live_migration.report(context, uuid, migration_uuid, step, ok, power_state,
                                     message=message)

    def snapshot_volume_backed(self, context, instance_uuid, image_id, upload_url,
                               snapshot_ids):
        snapshots.finish_volume_backed(context, instance_uuid, image_id, upload_url,
                                       snapshot_ids)

    @periodic.periodic(lambda: CONF.service_down_time)
    def fail_stranded_evacuations(self):
        evacuate.fail_stranded(ctx_mod.get_admin_context())
