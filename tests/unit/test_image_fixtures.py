"""Fixtures and helpers the image service unit tests share (no tests here).

``image_client`` is the image API's Flask test client on a migrated,
bootstrapped SQLite database (a copy of one built once per session) with a
file store in a temporary folder. ``people`` gives tokens for admin (admin
project), demo (member of demo), two more member projects, other and
third, and a reader.
"""

import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from common import auth
from common import tokens
from common.conf import CONF
from common.db import api as db_api
from common.db import migration
from common.db import models
from imagestore import signing

UUID_RE = r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
OCTET = {'Content-Type': 'application/octet-stream'}
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


class Person:
    def __init__(self, name, user_id, project_id, token):
        self.name = name
        self.user_id = user_id
        self.project_id = project_id
        self.token = token

    @property
    def h(self):
        return {'X-Auth-Token': self.token}

    def __repr__(self):
        return '<Person %s>' % self.name


def _token(user_id, project_id):
    return tokens.encode(tokens.TokenPayload(user_id, ['password'], project_id=project_id))


def make_person(name, role='member'):
    """A new project and user with ``role`` on it, and a token."""
    with db_api.session() as s:
        project = models.Project(id=uuid.uuid4().hex, name=name, domain_id='default',
                                 enabled=True)
        user = models.User(id=uuid.uuid4().hex, name=name, domain_id='default', enabled=True,
                           default_project_id=project.id)
        s.add_all([project, user])
        s.flush()
        role_id = s.scalars(sa.select(models.Role.id).where(models.Role.name == role)).one()
        s.add(models.RoleAssignment(actor_id=user.id, target_type='project',
                                    target_id=project.id, role_id=role_id))
    return Person(name, user.id, project.id, _token(user.id, project.id))


def existing_person(name):
    with db_api.reader() as s:
        user = s.scalars(sa.select(models.User).where(models.User.name == name)).one()
        project = s.scalars(sa.select(models.Project)
                            .where(models.Project.name == name)).one()
        return Person(name, user.id, project.id, _token(user.id, project.id))


@pytest.fixture(scope='session')
def image_template(tmp_path_factory):
    """A migrated, bootstrapped database with the people in it, built once per
    session; each test gets a copy (migrating and bootstrapping for every
    test would cost most of the run)."""
    from api.identity import bootstrap
    root = tmp_path_factory.mktemp('image-template')
    overrides = [('state_path', str(root), None),
                 ('connection', 'sqlite:///%s/test.sqlite' % root, 'database'),
                 ('password_hash_rounds', 1000, 'identity'),
                 ('key_repository', str(root / 'keys'), 'identity')]
    for name, value, group in overrides:
        CONF.set_override(name, value, group)
    try:
        db_api.dispose()
        migration.db_sync()
        tokens.setup_keys()
        bootstrap.bootstrap('admin-pw', 'demo-pw')
        who = {name: existing_person(name) for name in ('admin', 'demo')}
        who.update(other=make_person('other'), third=make_person('third'),
                   reader=make_person('readonly', role='reader'))
        ids = {k: (p.user_id, p.project_id) for k, p in who.items()}
    finally:
        db_api.dispose()  # the last connection to close folds the WAL into the file
        tokens._forget()
        auth.changed()
        for name, _value, group in overrides:
            CONF.clear_override(name, group)
    return root, ids


@pytest.fixture
def image_db(conf, tmp_path, image_template):
    """The template database and token keys, copied into this test's folder."""
    root, _ids = image_template
    db_api.dispose()
    for name in ('test.sqlite', 'test.sqlite-wal'):
        if (root / name).exists():
            shutil.copy(root / name, tmp_path / name)
    shutil.copytree(root / 'keys', tmp_path / 'keys')
    tokens._forget()
    auth.changed()
    return db_api


@pytest.fixture
def image_conf(conf, tmp_path):
    conf.set_override('store_path', str(tmp_path / 'images'), 'image')
    signing.forget()
    yield conf
    conf.clear_override('store_path', 'image')
    signing.forget()


@pytest.fixture
def image_app(image_db, image_conf):
    from imagestore.api import app as image_app_mod
    app = image_app_mod.create_app()
    app.testing = True
    return app


@pytest.fixture
def image_client(image_app):
    return image_app.test_client()


@pytest.fixture
def people(image_db, image_template):
    _root, ids = image_template

    class People:
        pass
    for name, (user_id, project_id) in ids.items():
        setattr(People, name, Person(name, user_id, project_id, _token(user_id, project_id)))
    return People


def qemu_img(path, fmt='qcow2', size='1M', *extra):
    subprocess.run(['qemu-img', 'create', '-q', '-f', fmt, *extra, str(path), size],
                   check=True)
    return path.read_bytes()


@pytest.fixture(scope='session')
def qcow2_bytes(tmp_path_factory):
    return qemu_img(tmp_path_factory.mktemp('img') / 'tiny.qcow2')


@pytest.fixture(scope='session')
def raw_bytes():
    return bytes(range(256)) * 256  # 64 KiB that no format claims


def create(client, who, expect=201, **body):
    body.setdefault('name', 'img-%s' % uuid.uuid4().hex[:6])
    body.setdefault('disk_format', 'qcow2')
    body.setdefault('container_format', 'bare')
    r = client.post('/v2/images', json=body, headers=who.h)
    assert r.status_code == expect, r.get_data(as_text=True)
    return r.get_json()


def upload(client, who, image_id, data, expect=204):
    r = client.put('/v2/images/%s/file' % image_id, data=data, headers={**who.h, **OCTET})
    assert r.status_code == expect, r.get_data(as_text=True)
    return r


def patch(client, who, image_id, ops, expect=200):
    r = client.patch('/v2/images/%s' % image_id, json=ops,
                     headers={**who.h, 'Content-Type': PATCH_TYPE})
    assert r.status_code == expect, r.get_data(as_text=True)
    return r.get_json() if expect == 200 else r


def active_image(client, who, data, **body):
    img = create(client, who, **body)
    upload(client, who, img['id'], data)
    return client.get('/v2/images/%s' % img['id'], headers=who.h).get_json()


def names(client, who, query=''):
    r = client.get('/v2/images' + query, headers=who.h)
    assert r.status_code == 200, r.get_data(as_text=True)
    return {i['name'] for i in r.get_json()['images']}
