"""Client of the image service.

Version history:

    1.0 - ping (call)
"""

from common import rpc

TOPIC = 'image'


class ImageAPI:
    VERSION = '1.0'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def ping(self, context):
        cctxt = self.client.prepare(version='1.0')
        return cctxt.call(context, 'ping')
