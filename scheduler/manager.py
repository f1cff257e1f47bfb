"""Scheduler RPC endpoints. Thin: each hands off to a flow module."""


import oslo_messaging as messaging
from oslo_log import log as logging
from oslo_utils import timeutils

from common import periodic
from common import servicegroup
from common.conf import CONF
from conductor import endpoints
from conductor import records
from network import notify
from network import snat
from network import state as netstate
from scheduler import build
from scheduler import claims
from scheduler import host_cache
from scheduler import moves

LOG = logging.getLogger(__name__)


class SchedulerManager(endpoints.RecordKeeping):
    target = messaging.Target(version='1.8')

    def __init__(self):
        # The compute agents' heartbeats, written together every second or so.
        self.heartbeats = servicegroup.Heartbeats()

    def init_host(self):
        # Read every host once now, not during the first build.
        host_cache.get().snapshot()

    def cleanup_host(self):
        # After the RPC servers stopped: no heartbeat taken is left unwritten.
        self.write_heartbeats()

    def report_state(self, context, host, binary, topic, sent_at=None):
        seen_at = timeutils.parse_isotime(sent_at).replace(tzinfo=None) if sent_at else None
        self.heartbeats.add(host, binary, topic, seen_at=seen_at)

    @periodic.periodic(servicegroup.WRITE_INTERVAL, run_immediately=True)
    def write_heartbeats(self):
        self.heartbeats.write()

    def ping(self, context):
        return {'service': 'scheduler', 'host': CONF.host}

    def build_instances(self, context, instance_uuids):
        for uuid in instance_uuids:
            try:
                build.build(context, uuid)
            except Exception as e:  # noqa: BLE001 - one bad build must not stop the rest
                LOG.exception('Scheduling %s failed', uuid)
                records.fail_build(context, uuid, 'Scheduling failed: %s' % e)

    def update_compute_node(self, context, host, resources):
        if claims.touch_if_unchanged(host, resources):
            # The usual report: the node holds these totals already, so its
            # peers, the SNAT ports and the host cache have nothing to hear.
            return
        before = claims.node_for_host(host)
        claims.update_node(host, resources)
        if before is not None and before.host_ip != resources.get('host_ip'):
            # VXLAN peers of this host tunnel to its address: tell them.
            notify.refresh_hosts(context, netstate.hosts_for_host_networks(host) - {host})
        had_gateway = bool(before is not None and before.external_gateway)
        if had_gateway != bool(resources.get('external_gateway')):
            # The host serving the routers' centralized SNAT ports may have
            # changed. (Not on every new host: the rebind reads every node,
            # which made N hosts joining cost N squared.)
            notify.refresh_hosts(context, snat.rebind())
        node = claims.node_for_host(host)
        if node is not None:
            host_cache.get().reload_nodes([node.id])

    def select_destination(self, context, uuid, consumer_uuid, flavor, requested_host=None,
                           allow_same_host=False, exclude_hosts=()):
        return moves.select_destination(context, uuid, consumer_uuid, flavor,
                                        requested_host=requested_host,
                                        allow_same_host=allow_same_host,
                                        exclude_hosts=exclude_hosts)

    # -- DEPRECATED: the compute agents' records, now the conductor's -------------
    # Compute agents of the previous release send these here: build_failed
    # below and the rest inherited from conductor.endpoints.RecordKeeping,
    # the conductor's own. Remove in the release after this one.
    def build_failed(self, context, uuid, host, message, reschedule=True):
        build.build_failed(context, uuid, host, message, reschedule)
