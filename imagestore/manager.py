"""Image service RPC endpoints."""

import oslo_messaging as messaging

from common.conf import CONF


class ImageManager:
    target = messaging.Target(version='1.0')

    def ping(self, context):
        return {'service': 'image', 'host': CONF.host}
