"""Serial console ports: one TCP port per guest, unique on the host.

A port is taken while any domain on the connection names it (running or
not) or while a spawn holds a reservation for it, between choosing it and
defining the domain. A reservation is a listening socket on the port, so
it also keeps other processes (other agents on the same libvirtd) off it:
a candidate is held first and only then checked against the domains, and
the hold is dropped after the domain is defined, before qemu binds it.
"""

import contextlib
import socket
import threading

from compute.virt import exception


def _listen(host, port):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR as qemu uses it: TIME_WAIT leftovers do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1)
    except OSError:
        s.close()
        return None
    return s


def port_is_free(host, port):
    """True if nothing listens on (or holds) host:port right now."""
    s = _listen(host, port)
    if s is None:
        return False
    s.close()
    return True


class ConsolePorts:
    """``used_ports()`` returns the ports the hypervisor's domains name."""

    MAX_ATTEMPTS = 5

    def __init__(self, used_ports, host, port_min, port_max):
        if port_min > port_max:
            raise ValueError('console port range %d-%d is empty' % (port_min, port_max))
        self._used_ports = used_ports
        self.host = host
        self.port_min = port_min
        self.port_max = port_max
        self._lock = threading.Lock()
        self._held = {}  # port -> listening socket

    @property
    def reserved(self):
        with self._lock:
            return set(self._held)

    def in_use(self):
        return set(self._used_ports()) | self.reserved

    def _take(self):
        with self._lock:
            used = set(self._used_ports())
            for _attempt in range(self.MAX_ATTEMPTS):
                for port in range(self.port_min, self.port_max + 1):
                    if port in used or port in self._held:
                        continue
                    sock = _listen(self.host, port)
                    if sock is None:
                        continue
                    # Held: a domain defined from now on cannot name it
                    # unless its definer held it before us. Look again.
                    used = set(self._used_ports())
                    if port in used:
                        sock.close()
                        break
                    self._held[port] = sock
                    return port
                else:
                    break
        raise exception.NoFreeConsolePort(port_min=self.port_min, port_max=self.port_max,
                                          host=self.host)

    def release(self, port):
        with self._lock:
            sock = self._held.pop(port, None)
        if sock is not None:
            sock.close()

    @contextlib.contextmanager
    def reserve(self):
        """Yield a free port, held until the block ends. Define the domain
        inside the block (from then on its XML holds the port) and start it
        after the block (qemu must bind the port itself)."""
        port = self._take()
        try:
            yield port
        finally:
            self.release(port)
