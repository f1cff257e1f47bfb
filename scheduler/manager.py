"""Scheduler RPC endpoints. Thin: each hands off to a flow module."""

import oslo_messaging as messaging
from oslo_utils import timeutils

from common import servicegroup
from common.conf import CONF


class SchedulerManager:
    target = messaging.Target(version='1.0')

    def report_state(self, context, host, binary, topic, sent_at=None):
        seen_at = timeutils.parse_isotime(sent_at).replace(tzinfo=None) if sent_at else None
        servicegroup.report(host, binary, topic, seen_at=seen_at)

    def ping(self, context):
        return {'service': 'scheduler', 'host': CONF.host}
