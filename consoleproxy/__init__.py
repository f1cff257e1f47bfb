"""altostack-serialproxy: the websocket proxy in front of guests' serial
consoles (their raw TCP sockets stay on the compute hosts' loopback)."""
