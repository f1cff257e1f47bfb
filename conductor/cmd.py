"""altostack-conductor: the records kept for the compute agents, and the move flows."""

import sys

from common import config
from common import rpc
from common import service
from conductor import manager
from conductor import rpcapi

BINARY = 'nova-conductor'  # Nova's name, so tools that filter by binary work


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    service.Service(BINARY, rpcapi.TOPIC, manager.ConductorManager()).run()


if __name__ == '__main__':
    sys.exit(main())
