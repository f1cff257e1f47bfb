"""altostack-image: Glance-compatible image records and bits."""

import os
import sys
import tempfile

from common import config
from common import rpc
from common import service
from common import spool
from common import wsgi
from common.conf import CONF
from imagestore import manager
from imagestore import rpcapi
from imagestore.api import app as image_app

BINARY = 'altostack-image'


def _spool_into_store():
    """waitress receives a whole request body before the app sees it, spooling
    big ones to temporary files: keep those beside the store (same disk,
    same space accounting), not in /tmp. When that disk is full, the body
    is still read to its end and the upload answered 413 (common/spool.py)."""
    incoming = os.path.join(CONF.image.store_path, '.incoming')
    os.makedirs(incoming, mode=0o750, exist_ok=True)
    tempfile.tempdir = incoming


def main(argv=None):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    rpc.set_service_name(BINARY)
    _spool_into_store()
    # waitress refuses bodies over 1 GiB by default; uploads may be up to
    # [image] max_image_size (the app refuses bigger ones with 413).
    http = wsgi.WSGIServer(BINARY, image_app.create_app, CONF.image.bind_host,
                           CONF.image.bind_port, threads=CONF.image.threads,
                           server_options={'channel_timeout': 120,
                                           'max_request_body_size':
                                               CONF.image.max_image_size + 1},
                           # a full store answers 413 instead of dropping the connection
                           channel_class=spool.SpoolChannel)
    service.Service(BINARY, rpcapi.TOPIC, manager.ImageManager(), http_servers=[http]).run()
