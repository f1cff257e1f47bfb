"""Scheduler RPC endpoints. Thin: each hands off to a flow module."""

import oslo_messaging as messaging

from common import servicegroup
from common.conf import CONF


class SchedulerManager:
    target = messaging.Target(version='1.0')

    def report_state(self, context, host, binary, topic):
        servicegroup.report(host, binary, topic)

    def ping(self, context):
        return {'service': 'scheduler', 'host': CONF.host}
