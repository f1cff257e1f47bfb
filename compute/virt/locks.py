"""Named in-process locks (per instance, per image) that free themselves."""

import contextlib
import threading


class KeyedLocks:
    """``with locks('key'):`` serialises callers that use the same key."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks = {}  # key -> [lock, users]

    @contextlib.contextmanager
    def __call__(self, key):
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[key]
