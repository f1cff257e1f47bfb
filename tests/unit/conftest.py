"""Unit test fixtures: config overrides, a fresh SQLite database, the
API's Flask test client and tokens for admin and demo."""

import os
import shutil

import pytest

from common import auth
from common import policy
from common import tokens
from common.conf import CONF
from common.db import api as db_api
from common.db import migration
from tests.fixtures.identity import ADMIN_PW
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue

CONF([], project='altostack', default_config_files=[])


@pytest.fixture
def conf(tmp_path):
    overrides = [
        ('state_path', str(tmp_path), None),
        ('connection', 'sqlite:///%s/test.sqlite' % tmp_path, 'database'),
        ('password_hash_rounds', 1000, 'identity'),
        ('key_repository', str(tmp_path / 'keys'), 'identity'),
        ('public_host', '127.0.0.1', 'api'),
    ]
    for name, value, group in overrides:
        CONF.set_override(name, value, group)
    db_api.dispose()
    auth.changed()
    yield CONF
    db_api.dispose()
    tokens._forget()
    policy.reset()
    for name, _value, group in overrides:
        CONF.clear_override(name, group)


@pytest.fixture(scope='session')
def _migrated_template(tmp_path_factory):
    """Where the first test's freshly migrated database is kept: every
    other test starts from a copy of it (a file copy takes milliseconds;
    running every migration again took a second or more a test)."""
    return str(tmp_path_factory.mktemp('db-template') / 'migrated.sqlite')


@pytest.fixture
def db(conf, tmp_path, _migrated_template):
    path = str(tmp_path / 'test.sqlite')
    if os.path.exists(_migrated_template):
        shutil.copyfile(_migrated_template, path)
    else:
        migration.db_sync()
        db_api.dispose()  # closes the file: nothing left in a journal
        shutil.copyfile(path, _migrated_template)
    return db_api


@pytest.fixture
def fast(db, conf):
    """The database with lost transactions retried at once, three times."""
    conf.set_override('db_retry_interval', 0, 'database')
    conf.set_override('db_max_retries', 3, 'database')
    yield db
    conf.clear_override('db_retry_interval', 'database')
    conf.clear_override('db_max_retries', 'database')


@pytest.fixture
def cloud_db(db):
    """The database after bootstrap: admin and demo, roles, catalog, keys."""
    from api.identity import bootstrap
    tokens.setup_keys()
    bootstrap.bootstrap(ADMIN_PW, DEMO_PW)
    return db


@pytest.fixture(scope='session')
def _api_app():
    """One API application for the session: create_app reads no option and
    keeps no state of its own (compiling its ~250 routes took a fifth of a
    second a test)."""
    from api import app as api_app
    app = api_app.create_app()
    app.testing = True
    return app


@pytest.fixture
def client(cloud_db, _api_app):
    return _api_app.test_client()


@pytest.fixture
def admin_token(client):
    return issue(client, 'admin', ADMIN_PW, 'admin')[0]


@pytest.fixture
def demo_token(client):
    return issue(client, 'demo', DEMO_PW, 'demo')[0]


@pytest.fixture
def no_cache_thread(monkeypatch):
    """The scheduler's host cache without its background thread, fresh for
    each test: a test reads it when it says so, and none outlives it."""
    from scheduler import host_cache
    monkeypatch.setattr(host_cache, 'BACKGROUND', False)
    host_cache.reset()
    yield
    host_cache.reset()
