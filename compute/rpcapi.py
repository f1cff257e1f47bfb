"""Client of the compute agents (topic compute.<host>).

Version history:

    1.0 - ping (call)
"""

from common import rpc

TOPIC = 'compute'


class ComputeAPI:
    VERSION = '1.0'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def ping(self, context, host):
        cctxt = self.client.prepare(server=host, version='1.0')
        return cctxt.call(context, 'ping')
