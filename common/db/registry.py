"""Every model module, imported once, so Base.metadata knows every table.

Models live by owner: models.py (Base, identity, service records),
compute_models.py (flavors, instances, ...: the compute API and scheduler),
image_models.py (the image service), network_models.py (the network API),
volume_models.py (the volume API), console_models.py (console URLs: the
compute API and the serial proxy), node_models.py (nodes joined with a
token: altostack-manage and the conductor).
"""

from common.db import compute_models  # noqa: F401
from common.db import console_models  # noqa: F401
from common.db import image_models  # noqa: F401
from common.db import models
from common.db import network_models  # noqa: F401
from common.db import node_models  # noqa: F401
from common.db import volume_models  # noqa: F401

metadata = models.Base.metadata
