"""altostack-serialproxy: the websocket proxy in front of guests' serial
consoles (their raw TCP sockets stay on the compute hosts' loopback)."""

import common  # noqa: F401  (first: threads, no eventlet; see common/__init__.py)
