"""Client of the conductor service: compute agents import this.

The conductor keeps the records for compute agents, which hold no database
credentials: what they run, the events and state changes of their
servers, and the steps of moves (resize, migration, evacuation, live
migration). Until 1.0 the scheduler took these calls; it still does for
one release (scheduler.manager), for agents of the previous release.

Version history:

    1.0 - ping, instance_update, instance_deleted, get_host_instances,
          get_host_network_state, resize_report, bind_moving_ports,
          evacuate_report, get_host_evacuations, evacuation_cleaned,
          live_migration_report (calls); instance_event, build_failed,
          snapshot_volume_backed (casts). The arguments and answers of the
          scheduler's 1.8 calls of the same names.
    1.1 - register_node (call): a new compute node presents its join token.
    1.2 - register_node answers a controller with the cloud's shared part
          ('bundle'); add_to_fronts (call, at the load balancer's host).
    1.3 - refresh_fronts (call, at the load balancer's host): the fronts
          over the controllers joined now (after a removal).
"""

from common import exception
from common import rpc

TOPIC = 'conductor'


class ConductorAPI:
    VERSION = '1.3'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def _call(self, context, method, timeout=None, **kwargs):
        cctxt = self.client.prepare(version='1.0', timeout=timeout)
        return cctxt.call(context, method, **kwargs)

    def _cast(self, context, method, **kwargs):
        cctxt = self.client.prepare(version='1.0')
        cctxt.cast(context, method, **kwargs)

    def ping(self, context):
        return self._call(context, 'ping')

    def register_node(self, context, name, secret, my_ip, timeout=None):
        """Present the join token of node ``name`` (its secret) once:
        {'name', 'state'} when accepted, {'error': message} when not."""
        cctxt = self.client.prepare(version='1.1', timeout=timeout)
        if not cctxt.can_send_version('1.1'):
            raise exception.ServiceUnavailable(
                reason='the conductor is too old to register nodes')
        return cctxt.call(context, 'register_node', name=name, secret=secret, my_ip=my_ip)

    def add_to_fronts(self, context, lb_host, name, timeout=None):
        """Ask the load balancer's conductor (at ``lb_host``) to put the
        joined controller ``name`` in its fronts."""
        cctxt = self.client.prepare(version='1.2', server=lb_host, timeout=timeout)
        if not cctxt.can_send_version('1.2'):
            raise exception.ServiceUnavailable(
                reason='the conductor is too old to add controllers to the fronts')
        return cctxt.call(context, 'add_to_fronts', name=name)

    def refresh_fronts(self, context, lb_host, timeout=None):
        """Ask the load balancer's conductor (at ``lb_host``) to rewrite its
        fronts over the controllers joined now."""
        cctxt = self.client.prepare(version='1.3', server=lb_host, timeout=timeout)
        if not cctxt.can_send_version('1.3'):
            raise exception.ServiceUnavailable(
                reason='the conductor is too old to take controllers out of the fronts')
        return cctxt.call(context, 'refresh_fronts')

    # -- servers an agent runs -------------------------------------------------
    def instance_event(self, context, uuid, event, phase, result=None, details=None,
                       host=None):
        self._cast(context, 'instance_event', uuid=uuid, event=event, phase=phase,
                   result=result, details=details, host=host)

    def build_failed(self, context, uuid, host, message, reschedule=True):
        """The build failed on ``host``: its claim is freed and the server
        is scheduled again (or goes to ERROR)."""
        self._cast(context, 'build_failed', uuid=uuid, host=host, message=message,
                   reschedule=reschedule)

    def instance_update(self, context, uuid, values, expected_task_states=None,
                        timeout=None):
        """Set fields of an instance; None if it is gone or in another task."""
        return self._call(context, 'instance_update', timeout=timeout, uuid=uuid,
                          values=values, expected_task_states=expected_task_states)

    def instance_deleted(self, context, uuid, host):
        return self._call(context, 'instance_deleted', uuid=uuid, host=host)

    def get_host_instances(self, context, host, timeout=None):
        """The servers ``host`` runs, each with 'block_devices' and the
        'migration' under way (or None)."""
        return self._call(context, 'get_host_instances', timeout=timeout, host=host)

    def get_host_network_state(self, context, host, timeout=None):
        """The desired data plane of ``host`` (see network.state)."""
        return self._call(context, 'get_host_network_state', timeout=timeout, host=host)

    # -- moves -----------------------------------------------------------------
    def resize_report(self, context, uuid, migration_uuid, step, ok, power_state,
                      message=None, timeout=None):
        """A resize step ('resize', 'confirm', 'revert') done (``ok``) or
        failed with ``message``: the records follow. The instance dict, or
        None if it changed meanwhile."""
        return self._call(context, 'resize_report', timeout=timeout, uuid=uuid,
                          migration_uuid=migration_uuid, step=step, ok=ok,
                          power_state=power_state, message=message)

    def bind_moving_ports(self, context, uuid, host, timeout=None):
        """Bind the ports of server ``uuid`` (moving between hosts) to
        ``host``, which is about to run its guest; its network_info."""
        return self._call(context, 'bind_moving_ports', timeout=timeout, uuid=uuid,
                          host=host)

    def evacuate_report(self, context, uuid, migration_uuid, ok, power_state, message=None,
                        timeout=None):
        """The destination rebuilt the evacuated server (``ok``) or could
        not (``message``): the records follow. The instance dict, or None."""
        return self._call(context, 'evacuate_report', timeout=timeout, uuid=uuid,
                          migration_uuid=migration_uuid, ok=ok, power_state=power_state,
                          message=message)

    def get_host_evacuations(self, context, host, timeout=None):
        """[{'uuid', 'instance_uuid', 'dest_compute', 'instance_host'}]:
        servers evacuated away from ``host`` whose leftovers it must remove."""
        return self._call(context, 'get_host_evacuations', timeout=timeout, host=host)

    def evacuation_cleaned(self, context, migration_uuid, timeout=None):
        return self._call(context, 'evacuation_cleaned', timeout=timeout,
                          migration_uuid=migration_uuid)

    def live_migration_report(self, context, uuid, migration_uuid, step, ok, power_state,
                              message=None, timeout=None):
        """A live migration step (conductor.live_migration.report):
        'prepare' binds the server's ports to the destination and answers
        {'network_info', 'block_devices'}; 'migrate' ``ok`` moves the records
        to the destination, not ``ok`` leaves them on the source."""
        return self._call(context, 'live_migration_report', timeout=timeout, uuid=uuid,
                          migration_uuid=migration_uuid, step=step, ok=ok,
                          power_state=power_state, message=message)

    # -- snapshots -------------------------------------------------------------
    def snapshot_volume_backed(self, context, instance_uuid, image_id, upload_url,
                               snapshot_ids):
        """Wait for the volume snapshots of a volume-backed server's image,
        then activate the image (or delete it and them)."""
        self._cast(context, 'snapshot_volume_backed', instance_uuid=instance_uuid,
                   image_id=image_id, upload_url=upload_url, snapshot_ids=snapshot_ids)
