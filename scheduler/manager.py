"""Scheduler RPC endpoints. Thin: each hands off to a flow module."""


import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log as logging
from oslo_utils import timeutils

from blockstore import attachments as volumes
from common import context as ctx_mod
from common import instance_states as st
from common import periodic
from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import claims
from common.db import compute_models as cm
from common.db import evacuations
from common.db import instances
from common.db import netstate
from scheduler import build
from scheduler import evacuate
from scheduler import host_cache
from scheduler import live_migration
from scheduler import moves
from scheduler import resize

LOG = logging.getLogger(__name__)

# Fields a compute agent may set on an instance it runs.
AGENT_FIELDS = {'vm_state', 'task_state', 'power_state', 'launched_at', 'fault', 'progress',
                'image_ref'}  # image_ref: a failed rebuild puts the old one back


class SchedulerManager:
    target = messaging.Target(version='1.8')

    def init_host(self):
        # Read every host once now, not during the first build.
        host_cache.get().snapshot()

    def report_state(self, context, host, binary, topic, sent_at=None):
        seen_at = timeutils.parse_isotime(sent_at).replace(tzinfo=None) if sent_at else None
        servicegroup.report(host, binary, topic, seen_at=seen_at)

    def ping(self, context):
        return {'service': 'scheduler', 'host': CONF.host}

    def build_instances(self, context, instance_uuids):
        for uuid in instance_uuids:
            try:
                build.build(context, uuid)
            except Exception as e:  # noqa: BLE001 - one bad build must not stop the rest
                LOG.exception('Scheduling %s failed', uuid)
                build._fail(context, uuid, 'Scheduling failed: %s' % e)

    def update_compute_node(self, context, host, resources):
        before = claims.node_for_host(host)
        claims.update_node(host, resources)
        if before is not None and before.host_ip != resources.get('host_ip'):
            # VXLAN peers of this host tunnel to its address: tell them.
            build.refresh_hosts(context, netstate.hosts_for_host_networks(host) - {host})
        node = claims.node_for_host(host)
        if node is not None:
            host_cache.get().reload_nodes([node.id])

    def instance_event(self, context, uuid, event, phase, result=None, details=None,
                       host=None):
        if phase == 'start':
            instances.event_start(context.request_id, uuid, event, host=host)
        else:
            instances.event_finish(context.request_id, uuid, event, result=result or 'Success',
                                   details=details)

    def build_failed(self, context, uuid, host, message, reschedule=True):
        build.build_failed(context, uuid, host, message, reschedule)

    def instance_update(self, context, uuid, values, expected_task_states=None):
        values = {k: v for k, v in values.items() if k in AGENT_FIELDS}
        if values.get('launched_at') == 'now':
            values['launched_at'] = instances.utcnow()
        kwargs = {}
        if expected_task_states is not None:
            kwargs['task_states'] = expected_task_states
        try:
            inst = instances.update(uuid, values, action='agent update', **kwargs)
        except (instances.InstanceNotFound, instances.InstanceInvalidState) as e:
            LOG.info('Agent update of %s not applied: %s', uuid, e)
            return None
        return instances.to_dict(inst)

    def instance_deleted(self, context, uuid, host):
        peers = netstate.hosts_for_instance(uuid) - {host}
        instances.finish_delete(context.request_id, uuid)
        build.refresh_hosts(context, peers)  # their remote-group rules named its addresses
        return True

    def get_host_instances(self, context, host):
        with db_api.reader() as s:
            rows = list(s.scalars(sa.select(cm.Instance).where(
                cm.Instance.host == host, cm.Instance.deleted.is_(False))))
        # A server that moved away but may still come back (VERIFY_RESIZE
        # after a move to another host) keeps its old guest here.
        rows += resize.moved_away_from(host, {i.uuid for i in rows})
        devices = volumes.block_devices_of([i.uuid for i in rows])
        migrations = resize.open_migrations(
            [i.uuid for i in rows if i.vm_state == st.RESIZED or i.task_state in
             st.RESIZE_TASKS or i.task_state in evacuations.TASKS or
             i.task_state == st.MIGRATING])
        return [dict(instances.to_dict(i), block_devices=devices[i.uuid],
                     migration=migrations.get(i.uuid)) for i in rows]

    def get_host_network_state(self, context, host):
        return netstate.host_state(host)

    def resize_report(self, context, uuid, migration_uuid, step, ok, power_state,
                      message=None):
        return resize.report(context, uuid, migration_uuid, step, ok, power_state,
                             message=message)

    def select_destination(self, context, uuid, consumer_uuid, flavor, requested_host=None,
                           allow_same_host=False, exclude_hosts=()):
        return moves.select_destination(context, uuid, consumer_uuid, flavor,
                                        requested_host=requested_host,
                                        allow_same_host=allow_same_host,
                                        exclude_hosts=exclude_hosts)

    def bind_moving_ports(self, context, uuid, host):
        return resize.bind_moving_ports(context, uuid, host)

    def evacuate_report(self, context, uuid, migration_uuid, ok, power_state, message=None):
        return evacuate.report(context, uuid, migration_uuid, ok, power_state,
                               message=message)

    def get_host_evacuations(self, context, host):
        return evacuate.leftovers(host)

    def evacuation_cleaned(self, context, migration_uuid):
        return evacuate.cleaned(migration_uuid)

    @periodic.periodic(lambda: CONF.service_down_time)
    def fail_stranded_evacuations(self):
        evacuate.fail_stranded(ctx_mod.get_admin_context())
    def live_migration_report(self, context, uuid, migration_uuid, step, ok, power_state,
                              message=None):
        return live_migration.report(context, uuid, migration_uuid, step, ok, power_state,
                                     message=message)
