"""Issue 16, scenario 8: repeated failed logins lock the user out, and no
password or token ever reaches a log file.

One real cloud with Keystone's lockout options set
([security_compliance] lockout_failure_attempts = 3, lockout_duration =
LOCK_SECONDS); the clients are keystoneauth1 sessions, as openstacksdk and
the openstack CLI use them. The lock is the user's: it holds whatever
project the login asks for, and other users log in meanwhile. It runs out
after LOCK_SECONDS (the bounded wait of this scenario), and a successful
login starts the count again. Then every log file of the cloud is searched
for every password sent and every token issued or sent.
"""

import glob
import os
import time
import uuid

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.cloud import ADMIN_PASSWORD
from tests.functional.cloud import DEMO_PASSWORD
from tests.functional.cloud import LocalCloud

ATTEMPTS = 3
LOCK_SECONDS = 6
GENERIC = 'The request you have made requires authentication.'


@pytest.fixture(scope='module')
def cloud():
    conf = ('[security_compliance]\nlockout_failure_attempts = %d\nlockout_duration = %d\n'
            % (ATTEMPTS, LOCK_SECONDS))
    with LocalCloud(compute=False, extra_conf=conf) as c:
        yield c


class Secrets:
    """Every password sent and token seen, to look for in the logs."""

    def __init__(self):
        self.items = set()

    def add(self, value):
        self.items.add(value)
        return value


@pytest.fixture(scope='module')
def secrets():
    return Secrets()


@pytest.fixture(scope='module')
def user(cloud, secrets):
    password = secrets.add('Pw-%s' % uuid.uuid4().hex)
    for project in ('lock-p1', 'lock-p2'):
        cloud.openstack('project', 'create', '--domain', 'default', project)
    cloud.openstack('user', 'create', '--domain', 'default', '--password', password,
                    '--project', 'lock-p1', 'lock-user')
    for project in ('lock-p1', 'lock-p2'):
        cloud.openstack('role', 'add', '--project', project, '--user', 'lock-user', 'member')
    user_id = cloud.openstack('user', 'show', 'lock-user', '-f', 'value', '-c', 'id').strip()
    return {'name': 'lock-user', 'id': user_id, 'password': password}


def login(cloud, secrets, name, password, project='lock-p1'):
    """A token, as keystoneauth gets one; raises keystoneauth's Unauthorized."""
    secrets.add(password)
    auth = v3.Password(auth_url=cloud.auth_url, username=name, password=password,
                       user_domain_id='default', project_name=project,
                       project_domain_id='default')
    token = ks_session.Session(auth=auth).get_token()
    return secrets.add(token)


def refused(cloud, secrets, name, password, project='lock-p1'):
    with pytest.raises(ks_exc.Unauthorized) as err:
        login(cloud, secrets, name, password, project)
    return str(err.value)


def test_lockout_per_user_then_runs_out(cloud, secrets, user):
    for n in range(ATTEMPTS):
        assert GENERIC in refused(cloud, secrets, user['name'], 'wrong-%d-%s' % (
            n, uuid.uuid4().hex))
    locked = 'The account is locked for user: %s.' % user['id']
    started = time.monotonic()
    # The right password, on either project: locked (the lock is the user's).
    assert locked in refused(cloud, secrets, user['name'], user['password'])
    assert locked in refused(cloud, secrets, user['name'], user['password'], 'lock-p2')
    # Another user is not slowed down.
    login(cloud, secrets, 'demo', DEMO_PASSWORD, 'demo')
    # The error is Keystone's, in Keystone's shape.
    r = requests.post(cloud.auth_url + '/auth/tokens', timeout=30, json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'id': user['id'], 'password': user['password']}}}}})
    assert r.status_code == 401
    assert r.json() == {'error': {'code': 401, 'title': 'Unauthorized', 'message': locked}}
    assert r.headers['WWW-Authenticate'].startswith('Keystone uri=')
    # It runs out after lockout_duration.
    time.sleep(max(0, LOCK_SECONDS - (time.monotonic() - started)) + 0.5)
    login(cloud, secrets, user['name'], user['password'], 'lock-p2')


def test_success_starts_the_count_again(cloud, secrets, user):
    for _round in range(3):
        for n in range(ATTEMPTS - 1):
            assert GENERIC in refused(cloud, secrets, user['name'],
                                     'bad-%d-%s' % (n, uuid.uuid4().hex))
        login(cloud, secrets, user['name'], user['password'])


def test_no_password_or_token_in_any_log(cloud, secrets, user):
    api = 'http://127.0.0.1:%d' % cloud.api_port
    image = 'http://127.0.0.1:%d' % cloud.image_port
    token = login(cloud, secrets, user['name'], user['password'])
    other = login(cloud, secrets, user['name'], user['password'], 'lock-p2')
    # Requests that carry tokens in X-Auth-Token and X-Subject-Token, to
    # every API, good and bad: validations, checks, a revocation, lists.
    for url in ('/compute/v2.1/servers', '/network/v2.0/networks',
                '/identity/v3/auth/projects', '/compute/v2.1/no-such-route'):
        requests.get(api + url, headers={'X-Auth-Token': token}, timeout=30)
    requests.get(image + '/v2/images', headers={'X-Auth-Token': token}, timeout=30)
    for method in ('GET', 'HEAD', 'DELETE'):
        requests.request(method, cloud.auth_url + '/auth/tokens', timeout=30,
                         headers={'X-Auth-Token': token, 'X-Subject-Token': other})
    # A password change sends two passwords in a body.
    new = secrets.add('Pw-new-%s' % uuid.uuid4().hex)
    r = requests.post(cloud.auth_url + '/users/%s/password' % user['id'], timeout=30,
                      headers={'X-Auth-Token': token},
                      json={'user': {'password': new, 'original_password': user['password']}})
    assert r.status_code == 204, r.text
    # Passwords that break the request schema: a number (a clouds.yaml
    # password of digits is read as one), and one past the length limit.
    digits = int(secrets.add(str(uuid.uuid4().int)[:15]))
    r = requests.post(cloud.auth_url + '/auth/tokens', timeout=30, json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user['name'], 'domain': {'id': 'default'}, 'password': digits}}}}})
    assert r.status_code == 400, r.text
    long_one = secrets.add('Pw-long-%s' % uuid.uuid4().hex * 200)
    admin = login(cloud, secrets, 'admin', ADMIN_PASSWORD, 'admin')
    r = requests.post(cloud.auth_url + '/users', timeout=30, headers={'X-Auth-Token': admin},
                      json={'user': {'name': 'too-long', 'password': long_one}})
    assert r.status_code == 400, r.text
    # The CLI's logins (admin's password from clouds.yaml) too.
    secrets.add(cloud.openstack('token', 'issue', '-f', 'value', '-c', 'id').strip())
    time.sleep(1)   # the services' log lines are written
    files = [f for f in glob.glob(os.path.join(cloud.workdir, '*'))
             if f.endswith(('.log', '.out'))]
    assert any(f.endswith('api.log') for f in files), files
    leaks = []
    for path in files:
        with open(path, errors='replace') as f:
            text = f.read()
        leaks += ['%s holds %s...' % (os.path.basename(path), s[:8])
                  for s in secrets.items if s in text]
    assert not leaks, leaks
    assert len(secrets.items) > 10
