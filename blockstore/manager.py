"""Volume service RPC endpoints."""

import oslo_messaging as messaging

from common.conf import CONF


class VolumeManager:
    target = messaging.Target(version='1.0')

    def ping(self, context):
        return {'service': 'volume', 'host': CONF.host}
