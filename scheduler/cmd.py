"""altostack-scheduler: placement decisions (where servers go, and their claims)."""

import sys

from common import config
from common import rpc
from common import service
from scheduler import host_state
from scheduler import manager
from scheduler import rpcapi

BINARY = host_state.SCHEDULER_BINARY


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    service.Service(BINARY, rpcapi.TOPIC, manager.SchedulerManager()).run()
