"""Schema migrations with alembic: ``altostack-manage db sync``."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from common.db import api as db_api

_SCRIPTS = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _SCRIPTS)
    cfg.attributes['connection'] = connection
    return cfg


def db_sync(revision='head'):
    engine = db_api.get_engine()
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def head():
    from alembic import script
    return script.ScriptDirectory.from_config(_config(None)).get_current_head()


def db_version():
    engine = db_api.get_engine('reader')
    with engine.connect() as conn:
        return alembic_migration.MigrationContext.configure(conn).get_current_revision()
