"""Telling compute hosts that their data plane changed with the records."""

from oslo_log import log as logging

from compute import rpcapi as compute_rpcapi

LOG = logging.getLogger(__name__)


def refresh_hosts(context, hosts):
    """Nudge hosts to resync their data plane; one that misses the nudge
    catches up at its periodic sync."""
    for host in sorted(h for h in hosts if h):
        try:
            compute_rpcapi.ComputeAPI().refresh_network(context, host)
        except Exception:  # noqa: BLE001
            LOG.warning('Could not ask %s to refresh its network', host, exc_info=True)
