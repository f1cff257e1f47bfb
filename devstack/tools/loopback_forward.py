"""Make loopback TCP ports of this network namespace answer on the loopback
of another one.

A compute host made by devstack/lib/hosts.sh lives in its own network
namespace, whose 127.0.0.1 is not the machine's. The broker, the API and
the image service of the all-in-one listen on the machine's loopback, so
this forwarder listens on 127.0.0.1:PORT inside the host's namespace and
connects each accepted client to 127.0.0.1:PORT here:

    python loopback_forward.py --netns altostack-stack-host2 5672 8080 9292

The listening sockets are made after setns(2) into the target namespace;
the main thread then returns home, and every thread it starts (and every
socket they connect) lives here. Runs until SIGTERM.

With --listen ADDR (and no --netns) it listens on ADDR:PORT of this
namespace instead: the all-in-one's loopback ports on its address on the
hosts bridge, where private hosts (hosts.sh) reach them.
"""

import argparse
import ctypes
import os
import signal
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def _join(client, port):
    try:
        upstream = socket.create_connection(('127.0.0.1', port), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener, port):
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_join, args=(client, port), daemon=True).start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--netns',
                        help='namespace name (under /run/netns) or a path to its file')
    parser.add_argument('--listen', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--pid-file', help='write the pid here once listening')
    parser.add_argument('ports', nargs='+', type=int)
    args = parser.parse_args(argv)
    if args.netns is None and args.listen == '127.0.0.1':
        parser.error('--netns, or --listen an address other than 127.0.0.1, is needed')
    listeners = []

    def listen():
        for port in sorted(set(args.ports)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((args.listen, port))
            s.listen(128)
            listeners.append((s, port))

    if args.netns is None:
        listen()
    else:
        path = args.netns if '/' in args.netns else os.path.join('/run/netns', args.netns)
        home = os.open('/proc/self/ns/net', os.O_RDONLY)
        there = os.open(path, os.O_RDONLY)
        _setns(there)
        try:
            listen()
        finally:
            _setns(home)
        os.close(there)
        os.close(home)
    for s, port in listeners:
        threading.Thread(target=_serve, args=(s, port), daemon=True).start()
    if args.pid_file:
        with open(args.pid_file, 'w') as f:
            f.write('%d\n' % os.getpid())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
