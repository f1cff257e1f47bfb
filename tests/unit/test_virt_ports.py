"""Serial console port allocation: unique on the host, free-checked,
reserved between choosing and defining."""

import random
import socket
import threading

import pytest

from compute.virt import exception
from compute.virt.libvirt import ports


def free_range(n):
    """n consecutive ports that all bind now, below Linux's ephemeral range
    (32768 up), so no client connection of another process takes one
    while the test runs."""
    rng = random.Random()
    while True:
        start = rng.randrange(20000, 32000 - n)
        socks = []
        try:
            for port in range(start, start + n):
                s = socket.socket()
                socks.append(s)
                s.bind(('127.0.0.1', port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return start, start + n - 1


def test_lowest_free_port_and_reservation_release():
    lo, hi = free_range(3)
    alloc = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)
    with alloc.reserve() as a:
        assert a == lo
        assert alloc.reserved == {lo}
        with alloc.reserve() as b:
            assert b == lo + 1
            assert alloc.in_use() == {lo, lo + 1}
    assert alloc.reserved == set()


def test_ports_named_by_domains_are_taken():
    lo, hi = free_range(3)
    alloc = ports.ConsolePorts(lambda: [lo, lo + 1], '127.0.0.1', lo, hi)
    with alloc.reserve() as p:
        assert p == lo + 2


def test_listening_port_is_skipped():
    lo, hi = free_range(2)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', lo))
        s.listen(1)
        assert not ports.port_is_free('127.0.0.1', lo)
        alloc = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)
        with alloc.reserve() as p:
            assert p == lo + 1
    assert ports.port_is_free('127.0.0.1', lo)


def test_exhausted_range_raises_and_reserves_nothing():
    lo, _hi = free_range(1)
    alloc = ports.ConsolePorts(lambda: [lo], '127.0.0.1', lo, lo)
    with pytest.raises(exception.NoFreeConsolePort):
        with alloc.reserve():
            pass
    assert alloc.reserved == set()


def test_reservation_released_when_the_block_fails():
    lo, hi = free_range(2)
    alloc = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)
    with pytest.raises(RuntimeError):
        with alloc.reserve():
            raise RuntimeError('define failed')
    assert alloc.reserved == set()


def test_concurrent_reservations_are_distinct():
    lo, hi = free_range(8)
    alloc = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)
    got, barrier, done = [], threading.Barrier(8), threading.Event()

    def take():
        with alloc.reserve() as p:
            got.append(p)
            barrier.wait(5)   # everyone holds a reservation at once
            done.wait(0.1)
    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(got) == list(range(lo, hi + 1))


def test_empty_range_is_a_config_error():
    with pytest.raises(ValueError):
        ports.ConsolePorts(lambda: [], '127.0.0.1', 10, 9)


def test_a_reservation_keeps_other_processes_off_the_port():
    lo, hi = free_range(3)
    ours = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)
    theirs = ports.ConsolePorts(lambda: [], '127.0.0.1', lo, hi)  # another agent
    with ours.reserve() as a, theirs.reserve() as b:
        assert (a, b) == (lo, lo + 1)
        assert not ports.port_is_free('127.0.0.1', a)
    assert ports.port_is_free('127.0.0.1', a)


def test_port_defined_by_someone_else_while_we_chose_is_skipped():
    lo, hi = free_range(3)
    listings = []

    def used():
        # another agent defines a domain on lo right after our first look
        listings.append(1)
        return [] if len(listings) == 1 else [lo]
    alloc = ports.ConsolePorts(used, '127.0.0.1', lo, hi)
    with alloc.reserve() as p:
        assert p == lo + 1
    assert ports.port_is_free('127.0.0.1', lo)
