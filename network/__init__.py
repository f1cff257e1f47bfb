"""The Neutron side's records and rules: networks and subnets
(networks.py, ipam.py), ports (portcore.py; the servers' ports: ports.py),
security groups (secgroups.py), floating IPs (floatingips.py), routers
(routers.py, interfaces.py, their centralized SNAT ports: snat.py), quotas
(quota.py), one host's desired data plane (state.py) and the errors
(exception.py). They use common.db's engine, sessions and models; common.db
imports none of them. The HTTP edge stays in api/network/; the host data
plane in compute/network/."""

import common  # noqa: F401  (first: threads, no eventlet; see common/__init__.py)
