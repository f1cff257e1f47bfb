"""What every Altostack service shares.

Importing this package first settles two process-wide choices: oslo.service
(pulled in by oslo.messaging) runs on plain threads, never eventlet, and
libraries that merely probe for an installed eventlet (futurist, which
oslo.messaging's executors use) find none: eventlet is installed as a
dependency of oslo.service, and importing it (with dnspython, ~250 modules)
costs every process about 10 MiB it never uses. Every service package's
``__init__`` imports this package first, whatever its entry point imports.
"""

import sys
import warnings

if 'eventlet' not in sys.modules:
    sys.modules['eventlet'] = None  # "import eventlet" raises ImportError

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend as _backend  # noqa: E402

if _backend._cached_backend_type is None:
    _backend.init_backend(_backend.BackendType.THREADING)
