"""Client of the scheduler service; every other service imports this.

Version history:

    1.0 - report_state (cast), ping (call)
"""

from oslo_utils import timeutils

from common import rpc

TOPIC = 'scheduler'


class SchedulerAPI:
    VERSION = '1.0'

    def __init__(self):
        self.client = rpc.get_client(TOPIC, self.VERSION)

    def report_state(self, context, host, binary, topic):
        """Heartbeat for a service that holds no database credentials."""
        cctxt = self.client.prepare(version='1.0')
        cctxt.cast(context, 'report_state', host=host, binary=binary, topic=topic,
                   sent_at=timeutils.utcnow().isoformat())

    def ping(self, context):
        cctxt = self.client.prepare(version='1.0')
        return cctxt.call(context, 'ping')
