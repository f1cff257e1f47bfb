"""The websocket proxies in front of guests' consoles, whose sockets stay on
the compute hosts: altostack-serialproxy (serial ports, server.py) and
altostack-novncproxy (VNC displays and the noVNC web client, novnc.py)."""

import common  # noqa: F401  (first: threads, no eventlet; see common/__init__.py)
