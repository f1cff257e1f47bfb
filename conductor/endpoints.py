"""The compute agents' record-keeping endpoints, in one place: the
conductor's manager serves them, and the scheduler's manager keeps serving
them (deprecated) for agents of the previous release, which still send
them to the scheduler's topic. Thin: each hands off to conductor.records
or a move flow. (A module both managers import: services never import
each other's managers.)"""

from conductor import evacuate
from conductor import live_migration
from conductor import records
from conductor import resize


class RecordKeeping:
    def instance_event(self, context, uuid, event, phase, result=None, details=None,
                       host=None):
        records.instance_event(context, uuid, event, phase, result=result, details=details,
                               host=host)

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
