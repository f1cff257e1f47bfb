"""Client of the scheduler service; every other service imports this.

The scheduler places servers. The records of the compute agents (which
hold no database credentials) moved to the conductor (conductor.rpcapi);
the calls of 1.1-1.7 that keep them stay here, deprecated, for one
release: what compute agents of the previous release send.

Version history:

    1.0 - report_state (cast), ping (call)
    1.1 - build_instances, instance_event, build_failed (casts);
          update_compute_node, instance_update, instance_deleted,
          get_host_instances (calls)
    1.2 - get_host_network_state (call: what a host's data plane should hold)
    1.3 - resize_report (call: a resize step done or failed on its host);
          get_host_instances entries carry 'migration' (a resize under way)
    1.4 - select_destination (call: claim room for a moving server)
    1.5 - bind_moving_ports (call: a moving server's ports to the host that
          is about to run it); get_host_instances also lists the servers
          a host is the source of an open move to another host
    1.6 - live_migration_report (call: a live migration's destination is
          prepared, or the guest moved or stayed); get_host_instances
          entries of MIGRATING servers carry 'migration'
    1.7 - evacuate_report (call: an evacuation rebuilt on its destination,
          or failed there); get_host_evacuations, evacuation_cleaned (calls:
          a host back up removes what servers evacuated away left there);
          get_host_instances entries carry 'migration' during an evacuation
    1.8 - select_destination takes exclude_hosts (hosts that refused the
          move: tried no more)
"""

from oslo_utils import timeutils

from common import rpc

TOPIC = 'scheduler'


class SchedulerAPI:
    VERSION = '1.8'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def report_state(self, context, host, binary, topic):
        """Heartbeat for a service that holds no database credentials."""
        cctxt = self.client.prepare(version='1.0')
        cctxt.cast(context, 'report_state', host=host, binary=binary, topic=topic,
                   sent_at=timeutils.utcnow().isoformat())

    def ping(self, context):
        cctxt = self.client.prepare(version='1.0')
        return cctxt.call(context, 'ping')

    def build_instances(self, context, instance_uuids):
        cctxt = self.client.prepare(version='1.1')
        cctxt.cast(context, 'build_instances', instance_uuids=instance_uuids)

    def update_compute_node(self, context, host, resources, timeout=None):
        cctxt = self.client.prepare(version='1.1', timeout=timeout)
        return cctxt.call(context, 'update_compute_node', host=host, resources=resources)

    def instance_event(self, context, uuid, event, phase, result=None, details=None,
                       host=None):
        cctxt = self.client.prepare(version='1.1')
        cctxt.cast(context, 'instance_event', uuid=uuid, event=event, phase=phase,
                   result=result, details=details, host=host)

    def build_failed(self, context, uuid, host, message, reschedule=True):
        cctxt = self.client.prepare(version='1.1')
        cctxt.cast(context, 'build_failed', uuid=uuid, host=host, message=message,
                   reschedule=reschedule)

    def instance_update(self, context, uuid, values, expected_task_states=None,
                        timeout=None):
        """Set fields of an instance; None if it is gone or in another task."""
        cctxt = self.client.prepare(version='1.1', timeout=timeout)
        return cctxt.call(context, 'instance_update', uuid=uuid, values=values,
                          expected_task_states=expected_task_states)

    def instance_deleted(self, context, uuid, host):
        cctxt = self.client.prepare(version='1.1')
        return cctxt.call(context, 'instance_deleted', uuid=uuid, host=host)

    def get_host_instances(self, context, host, timeout=None):
        cctxt = self.client.prepare(version='1.1', timeout=timeout)
        return cctxt.call(context, 'get_host_instances', host=host)

    def get_host_network_state(self, context, host, timeout=None):
        """The desired data plane of ``host`` (see network/state.py)."""
        cctxt = self.client.prepare(version='1.2', timeout=timeout)
        return cctxt.call(context, 'get_host_network_state', host=host)

    def resize_report(self, context, uuid, migration_uuid, step, ok, power_state,
                      message=None, timeout=None):
        """A resize step ('resize', 'confirm', 'revert') done (``ok``) or
        failed with ``message``: the records follow. The instance dict, or
        None if it changed meanwhile."""
        cctxt = self.client.prepare(version='1.3', timeout=timeout)
        return cctxt.call(context, 'resize_report', uuid=uuid, migration_uuid=migration_uuid,
                          step=step, ok=ok, power_state=power_state, message=message)

    def select_destination(self, context, uuid, consumer_uuid, flavor, requested_host=None,
                           allow_same_host=False, exclude_hosts=None, timeout=None):
        """Claim room for ``flavor`` under ``consumer_uuid`` on a host for
        moving server ``uuid`` (scheduler.moves), none of ``exclude_hosts``:
        {'host', 'node'}, or {'host': None, 'reason'} when none fits."""
        kwargs = {'exclude_hosts': list(exclude_hosts)} if exclude_hosts else {}
        cctxt = self.client.prepare(version='1.8' if kwargs else '1.4', timeout=timeout)
        return cctxt.call(context, 'select_destination', uuid=uuid,
                          consumer_uuid=consumer_uuid, flavor=flavor,
                          requested_host=requested_host, allow_same_host=allow_same_host,
                          **kwargs)

    def bind_moving_ports(self, context, uuid, host, timeout=None):
        """Bind the ports of server ``uuid`` (moving between hosts) to
        ``host``, which is about to run its guest; its network_info."""
        cctxt = self.client.prepare(version='1.5', timeout=timeout)
        return cctxt.call(context, 'bind_moving_ports', uuid=uuid, host=host)

    # -- evacuation (1.7) ------------------------------------------------------
    def evacuate_report(self, context, uuid, migration_uuid, ok, power_state, message=None,
                        timeout=None):
        """The destination rebuilt the evacuated server (``ok``) or could
        not (``message``): the records follow. The instance dict, or None."""
        cctxt = self.client.prepare(version='1.7', timeout=timeout)
        return cctxt.call(context, 'evacuate_report', uuid=uuid,
                          migration_uuid=migration_uuid, ok=ok, power_state=power_state,
                          message=message)

    def get_host_evacuations(self, context, host, timeout=None):
        """[{'uuid', 'instance_uuid', 'dest_compute', 'instance_host'}]:
        servers evacuated away from ``host`` whose leftovers it must remove."""
        cctxt = self.client.prepare(version='1.7', timeout=timeout)
        return cctxt.call(context, 'get_host_evacuations', host=host)

    def evacuation_cleaned(self, context, migration_uuid, timeout=None):
        cctxt = self.client.prepare(version='1.7', timeout=timeout)
        return cctxt.call(context, 'evacuation_cleaned', migration_uuid=migration_uuid)

    def live_migration_report(self, context, uuid, migration_uuid, step, ok, power_state,
                              message=None, timeout=None):
        """A live migration step (conductor.live_migration.report):
        'prepare' binds the server's ports to the destination and answers
        {'network_info'}; 'migrate' ``ok`` moves the records to the
        destination, not ``ok`` leaves them on the source."""
        cctxt = self.client.prepare(version='1.6', timeout=timeout)
        return cctxt.call(context, 'live_migration_report', uuid=uuid,
                          migration_uuid=migration_uuid, step=step, ok=ok,
                          power_state=power_state, message=message)
