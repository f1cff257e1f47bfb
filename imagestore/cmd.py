"""altostack-image: Glance-compatible image records and bits."""

import sys

from common import config
from common import service
from common import wsgi
from common.conf import CONF
from imagestore import manager
from imagestore import rpcapi
from imagestore.api import app as image_app

BINARY = 'altostack-image'


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    http = wsgi.WSGIServer(BINARY, image_app.create_app, CONF.image.bind_host,
                           CONF.image.bind_port)
    service.Service(BINARY, rpcapi.TOPIC, manager.ImageManager(), http_servers=[http]).run()
