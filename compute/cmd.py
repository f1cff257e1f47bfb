"""altostack-compute: one agent per hypervisor host."""

import sys

from common import config
from common import context as ctx_mod
from common import rpc
from common import service
from compute import manager
from compute import rpcapi
from scheduler import rpcapi as scheduler_rpcapi

BINARY = 'nova-compute'  # Nova's name, so tools that filter by binary work


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    scheduler = scheduler_rpcapi.SchedulerAPI()

    def rpc_reporter(host, binary, topic):
        # No database credentials here: the conductor keeps our records; the
        # scheduler hears our heartbeats.
        scheduler.report_state(ctx_mod.get_admin_context(), host, binary, topic)

    service.Service(BINARY, rpcapi.TOPIC, manager.ComputeManager(),
                    reporter=rpc_reporter).run()
