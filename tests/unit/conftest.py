"""Unit test fixtures: config overrides, a fresh SQLite database, the
API's Flask test client and tokens for admin and demo."""

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


@pytest.fixture
def db(conf):
    migration.db_sync()
    return db_api


@pytest.fixture
def cloud_db(db):
    """The database after bootstrap: admin and demo, roles, catalog, keys."""
    from api.identity import bootstrap
    tokens.setup_keys()
    bootstrap.bootstrap(ADMIN_PW, DEMO_PW)
    return db


@pytest.fixture
def client(cloud_db):
    from api import app as api_app
    app = api_app.create_app()
    app.testing = True
    return app.test_client()


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
