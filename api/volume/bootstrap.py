"""Bootstrap block storage (idempotent): the default volume type
([volume] default_volume_type, '__DEFAULT__' as Cinder names it)."""

from blockstore import types as volume_types
from common.conf import CONF


def bootstrap():
    return volume_types.ensure_type(CONF.volume.default_volume_type, 'Default Volume Type')
