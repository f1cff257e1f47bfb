"""Bootstrap block storage (idempotent): the default volume type
([volume] default_volume_type, '__DEFAULT__' as Cinder names it)."""

from common.conf import CONF
from common.db import volumes


def bootstrap():
    return volumes.ensure_type(CONF.volume.default_volume_type, 'Default Volume Type')
