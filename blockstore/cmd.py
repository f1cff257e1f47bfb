"""altostack-volume: volumes and their exports."""

import sys

from blockstore import manager
from blockstore import rpcapi
from common import config
from common import rpc
from common import service

BINARY = 'cinder-volume'  # Cinder's name, so tools that filter by binary work


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    service.Service(BINARY, rpcapi.TOPIC, manager.VolumeManager()).run()
