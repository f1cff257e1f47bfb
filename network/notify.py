"""Telling compute hosts that what they enforce changed.

After a change to rules, addresses, groups or floating IPs, each affected
host gets a ``refresh_network`` cast and syncs its data plane with the
records. A cast that fails (broker down) is logged and forgotten: the
host's periodic sync catches up, and the API call that made the change
still succeeds.
"""

from oslo_log import log as logging

from compute import rpcapi as compute_rpcapi

LOG = logging.getLogger(__name__)


def refresh_hosts(context, hosts):
    """Cast refresh_network to every named host (empty names skipped)."""
    hosts = sorted({h for h in hosts or () if h})
    if not hosts:
        return
    try:
        api = compute_rpcapi.ComputeAPI()
    except Exception:  # noqa: BLE001 - no bus: the periodic sync will do
        LOG.exception('Could not reach the bus to refresh the network of %s', hosts)
        return
    for host in hosts:
        try:
            api.refresh_network(context, host)
        except Exception:  # noqa: BLE001 - see the module docstring
            LOG.exception('Could not ask %s to refresh its network', host)
