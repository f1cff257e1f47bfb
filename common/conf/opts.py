"""Entry point for oslo-config-generator: every option group Altostack owns."""

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

_MODULES = (service, api, cache, compute, console, dashboard, database, identity, image,
            libvirt, live_migration, network, node_join, quota, scheduler,
            security_compliance, serial_console, upgrade_levels, vnc, volume, zones)


def list_opts():
    merged = {}
    for mod in _MODULES:
        for group, opts in mod.list_opts().items():
            merged.setdefault(group, []).extend(opts)
    return list(merged.items())
