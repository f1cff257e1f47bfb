"""Bootstrap compute: the default flavors (idempotent)."""

import sqlalchemy as sa

from common.db import api as db_api
from common.db import compute_models as cm

# (flavorid, name, vcpus, ram MB, disk GB)
FLAVORS = (
    ('42', 'm1.nano', 1, 128, 1),
    ('1', 'm1.tiny', 1, 512, 1),
    ('2', 'm1.small', 1, 2048, 20),
    ('3', 'm1.medium', 2, 4096, 40),
)


def bootstrap():
    with db_api.session() as s:
        for flavorid, name, vcpus, ram, disk in FLAVORS:
            if s.scalars(sa.select(cm.Flavor).where(sa.or_(cm.Flavor.name == name,
                                                           cm.Flavor.flavorid == flavorid))
                         ).first() is None:
                s.add(cm.Flavor(flavorid=flavorid, name=name, vcpus=vcpus, memory_mb=ram,
                                root_gb=disk, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                                is_public=True, disabled=False))
