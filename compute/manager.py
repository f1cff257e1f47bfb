"""Compute agent RPC endpoints. Holds no database credentials."""

import oslo_messaging as messaging

from common.conf import CONF


class ComputeManager:
    target = messaging.Target(version='1.0')

    def ping(self, context):
        return {'service': 'compute', 'host': CONF.host}
