"""Configuration: one module per option group, all registered on CONF here."""

from oslo_config import cfg

from common.conf import api
from common.conf import database
from common.conf import identity
from common.conf import image
from common.conf import service

CONF = cfg.CONF

for _mod in (api, database, identity, image, service):
    _mod.register_opts(CONF)
