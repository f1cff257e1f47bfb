"""Configuration: one module per option group, all registered on CONF here."""

from oslo_config import cfg

from common.conf import api
from common.conf import cache
from common.conf import compute
from common.conf import console
from common.conf import dashboard
from common.conf import database
from common.conf import identity
from common.conf import image
from common.conf import libvirt
from common.conf import live_migration
from common.conf import network
from common.conf import node_join
from common.conf import quota
from common.conf import scheduler
from common.conf import security_compliance
from common.conf import serial_console
from common.conf import service
from common.conf import upgrade_levels
from common.conf import vnc
from common.conf import volume
from common.conf import zones

CONF = cfg.CONF

for _mod in (api, cache, compute, console, dashboard, database, identity, image, libvirt,
             live_migration, network, node_join, quota, scheduler, security_compliance,
             serial_console, service, upgrade_levels, vnc, volume, zones):
    _mod.register_opts(CONF)
