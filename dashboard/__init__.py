"""The web dashboard: a Flask app that reaches the cloud only as a user's own
client does, through the Keystone catalog with keystoneauth1 and openstacksdk
(tools/check_boundaries.py B10 keeps it so)."""

import common  # noqa: F401  (blocks eventlet before anything loads it)
