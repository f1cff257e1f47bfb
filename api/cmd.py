"""altostack-api: the REST front door (identity, compute, volume, network)."""

import os
import sys

from api import app as api_app
from common import config
from common import rpc
from common import service
from common import wsgi
from common.conf import CONF

BINARY = 'altostack-api'


class APIManager:
    """The API serves no RPC; it only heartbeats."""


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    http = wsgi.WSGIServer(BINARY, api_app.create_app, CONF.api.bind_host,
                           CONF.api.bind_port, threads=CONF.api.threads,
                           workers=CONF.api.workers or 2 * (os.cpu_count() or 1))
    service.Service(BINARY, 'api', APIManager(), rpc_topics=[], http_servers=[http]).run()
