"""Validated tokens in memcached, shared by every API copy ([cache]).

A validation costs a few database reads; with several API copies behind a
load balancer, a client's requests land on all of them, so each copy would
repeat them. Here the result of one copy's check (the user, its domain,
the scope and the effective roles: never the token, never a secret) is
kept in memcached under a SHA-256 of the token, for a short time.

Revocation and every other identity change must count at once on every
copy. Each entry records the *generation* it was computed under, and the
generation is one counter in memcached that ``bump`` increments after any
identity write; an entry of an older generation is a miss. A copy reads
the generation in the same round trip as the entry, before it reads the
database, so an entry computed while a change commits is stored under the
old generation and never served.

When memcached does not answer (down, slow, evicted generation) the
caller checks the database: slower, never wrong, never an error. The
counters (shared by the forked workers of one copy) say how validations
were served; /healthcheck shows them.
"""

import hashlib
import json
import mmap
import os
import struct
import threading
import time

from oslo_log import log as logging

from common.conf import CONF

LOG = logging.getLogger(__name__)

GENERATION_KEY = b'altostack-token-generation'
_PREFIX = 'altostack-token-'
COUNTERS = ('shared_hits', 'shared_misses', 'database')

_lock = threading.Lock()
_client = None  # (pid, client): a forked worker makes its own connections
_failing = False
_counts = mmap.mmap(-1, 8 * len(COUNTERS))  # shared by the workers forked later


def enabled():
    return CONF.cache.enabled


def count(name):
    i = COUNTERS.index(name) * 8
    with _lock:
        struct.pack_into('Q', _counts, i, struct.unpack_from('Q', _counts, i)[0] + 1)


def counters():
    return {name: struct.unpack_from('Q', _counts, i * 8)[0]
            for i, name in enumerate(COUNTERS)}


def key(token):
    """The memcached key of a token: a digest, so memcached never holds a
    usable token."""
    return (_PREFIX + hashlib.sha256(token.encode()).hexdigest()).encode()


def _server(spec):
    host, _, port = spec.strip().rpartition(':')
    return (host.strip('[]') or '127.0.0.1', int(port or 11211))


def _get_client():
    global _client
    from pymemcache.client import hash as mc_hash
    pid = os.getpid()
    with _lock:
        if _client is None or _client[0] != pid:
            timeout = CONF.cache.socket_timeout
            _client = (pid, mc_hash.HashClient(
                [_server(s) for s in CONF.cache.memcache_servers],
                connect_timeout=timeout, timeout=timeout, use_pooling=True,
                retry_attempts=1, retry_timeout=CONF.cache.dead_retry,
                dead_timeout=CONF.cache.dead_retry, ignore_exc=False,
                default_noreply=False))
        return _client[1]


def _call(what, fn):
    """fn(client), or None when memcached fails (logged once per outage)."""
    global _failing
    try:
        result = fn(_get_client())
    except Exception as e:  # any failure of the cache is a miss, never an error
        if not _failing:
            LOG.warning('memcached %s failed (%s); validating tokens against the '
                        'database until it answers again', what, e)
        _failing = True
        return None
    if _failing:
        LOG.info('memcached answers again')
    _failing = False
    return result


def _generation(client, found):
    gen = found.get(GENERATION_KEY)
    if gen is None:
        # Never set, evicted or memcached restarted: start from a value no
        # earlier generation had (entries of the old one cannot match it).
        client.add(GENERATION_KEY, str(time.time_ns() // 1000).encode(), expire=0)
        gen = client.get(GENERATION_KEY)
        if gen is None:
            raise RuntimeError('the generation counter cannot be stored')
    return int(gen)


def lookup(token_key):
    """(generation, entry or None); None when memcached cannot be used."""
    def get(client):
        found = client.get_many([GENERATION_KEY, token_key])
        gen = _generation(client, found)
        raw = found.get(token_key)
        entry = json.loads(raw) if raw else None
        return gen, (entry if entry and entry.get('generation') == gen else None)
    return _call('get', get)


def store(token_key, generation, entry, ttl):
    entry = dict(entry, generation=generation)
    raw = json.dumps(entry, separators=(',', ':')).encode()
    expire = max(1, min(int(ttl), CONF.cache.expiration_time))
    _call('set', lambda client: client.set(token_key, raw, expire=expire, noreply=True))


def bump():
    """An identity change: every entry in memcached stops counting."""
    def incr(client):
        if client.incr(GENERATION_KEY, 1) is None:
            client.add(GENERATION_KEY, str(time.time_ns() // 1000).encode(), expire=0)
        return True
    if _call('incr', incr) is None:
        LOG.warning('memcached missed an identity change: its token entries expire '
                    'within [cache] expiration_time = %ds', CONF.cache.expiration_time)
