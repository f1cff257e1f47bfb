"""A compute agent's host network (bridges, DHCP, firewall, NAT) kept in
step with the records: the agent asks the scheduler for this host's network
state and applies it (compute/network/plane.py), periodically and whenever
a flow has just bound or dropped ports here.

One NetworkSync per agent (ComputeManager.netsync).
"""

import threading
import time

import oslo_messaging as messaging
from oslo_log import log as logging

from common.conf import CONF
from compute import agent_part
from compute.network import plane as netplane

LOG = logging.getLogger(__name__)


class NetworkSync(agent_part.AgentPart):
    def __init__(self, agent):
        super().__init__(agent)
        self.network = netplane.HostNetwork(CONF.network.state_dir, agent.host)
        self._lock = threading.Lock()
        self._synced_at = float('-inf')

    def due(self):
        """True once [network] sync_interval has passed since the last
        sync that worked (at once after one that failed)."""
        return time.monotonic() - self._synced_at >= CONF.network.sync_interval

    def sync(self, ctx):
        """Fetch this host's network state and apply it; False if it failed
        (the periodic sync tries again soon)."""
        with self._lock:
            try:
                state = self.conductor.get_host_network_state(
                    ctx, self.host, timeout=CONF.rpc_call_timeout)
                self.network.apply(state)
                self._synced_at = time.monotonic()
                return True
            except messaging.MessagingTimeout:
                LOG.warning('Conductor did not answer for the network state; syncing later')
            except Exception:  # noqa: BLE001 - a bad sync must not stop the agent
                LOG.exception('Network sync failed; trying again soon')
            self._synced_at = float('-inf')
            return False
