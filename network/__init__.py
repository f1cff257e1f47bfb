"""The Neutron side's records and rules that are not in common/db yet:
routers (their gateway, interfaces and static routes) and what a floating
IP needs from them. The HTTP edge stays in api/network/; the host data
plane in compute/network/."""

import common  # noqa: F401  (first: threads, no eventlet; see common/__init__.py)
