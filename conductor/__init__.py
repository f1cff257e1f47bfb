import common  # noqa: F401  (first: threads, no eventlet; see common/__init__.py)
