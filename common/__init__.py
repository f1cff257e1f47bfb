"""What every Altostack service shares.

Importing this package first settles two process-wide choices: oslo.service
(pulled in by oslo.messaging) runs on plain threads, never eventlet, and
libraries that merely probe for an installed eventlet stay quiet about it.
"""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend as _backend  # noqa: E402

if _backend._cached_backend_type is None:
    _backend.init_backend(_backend.BackendType.THREADING)
