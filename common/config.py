"""Process start-up: parse the command line and config files, set up logging."""

from oslo_log import log as logging

from common import conf as _conf  # noqa: F401  (registers every option group)
from common.conf import CONF

_LOG_READY = False


def parse_args(argv, project='altostack', default_config_files=None):
    """Read config for a service process; argv excludes the program name."""
    global _LOG_READY
    if not _LOG_READY:
        logging.register_options(CONF)
        _LOG_READY = True
    CONF(argv, project=project, default_config_files=default_config_files)
    logging.set_defaults(default_log_levels=logging.get_default_log_levels() + [
        'amqp=WARN', 'kombu=WARN', 'waitress=WARN', 'alembic=WARN', 'websockets=WARN',
        'oslo.messaging=INFO', 'oslo_messaging=INFO', 'oslo_policy=INFO',
    ])
    logging.setup(CONF, project)
    return CONF
