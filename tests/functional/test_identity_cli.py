"""Identity through the real openstack CLI, against the running services."""

import uuid

import pytest
import requests


def _name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def test_token_issue(cloud):
    tok = cloud.openstack('token', 'issue', json_out=True)
    assert set(tok) >= {'expires', 'id', 'project_id', 'user_id'}
    admin = cloud.openstack('project', 'show', 'admin', json_out=True)
    assert tok['project_id'] == admin['id']


def test_catalog_list_and_show(cloud):
    cat = cloud.openstack('catalog', 'list', json_out=True)
    types = {c['Type'] for c in cat}
    assert {'identity', 'compute', 'image', 'volumev3', 'network'} <= types
    compute = cloud.openstack('catalog', 'show', 'compute', json_out=True)
    assert '/compute/v2.1' in str(compute['endpoints'])


def test_project_user_role_flow(cloud):
    proj, user = _name('proj'), _name('user')
    p = cloud.openstack('project', 'create', '--domain', 'default', '--description', 'D',
                        proj, json_out=True)
    assert p['name'] == proj and p['description'] == 'D' and p['enabled'] is True
    u = cloud.openstack('user', 'create', '--domain', 'default', '--password', 'pw-1',
                        '--project', proj, user, json_out=True)
    assert u['default_project_id'] == p['id']
    cloud.openstack('role', 'add', '--project', proj, '--user', user, 'member')
    rows = cloud.openstack('role', 'assignment', 'list', '--project', proj, '--names',
                           json_out=True)
    assert [(r['Role'], r['User'], r['Project']) for r in rows] == [
        ('member', '%s@Default' % user, '%s@Default' % proj)]
    # The new user can log in to the new project with its password.
    r = requests.post(cloud.auth_url + '/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'domain': {'name': 'Default'}, 'password': 'pw-1'}}},
        'scope': {'project': {'name': proj, 'domain': {'name': 'Default'}}}}}, timeout=10)
    assert r.status_code == 201, r.text
    roles = sorted(x['name'] for x in r.json()['token']['roles'])
    assert roles == ['member', 'reader']
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')


def test_lists(cloud):
    assert 'admin' in [p['Name'] for p in cloud.openstack('project', 'list', json_out=True)]
    assert {'admin', 'demo'} <= {u['Name'] for u in cloud.openstack('user', 'list',
                                                                     json_out=True)}
    assert {'admin', 'member', 'reader'} <= {r['Name'] for r in
                                             cloud.openstack('role', 'list', json_out=True)}
    assert len(cloud.openstack('endpoint', 'list', json_out=True)) >= 15
    assert cloud.openstack('domain', 'show', 'default', json_out=True)['name'] == 'Default'


def test_duplicate_project_is_conflict(cloud):
    proj = _name('dup')
    cloud.openstack('project', 'create', proj)
    r = cloud.openstack('project', 'create', proj, check=False)
    assert r.returncode == 1
    assert '409' in r.stderr and 'already exists' in r.stderr


def test_unknown_names_are_not_found(cloud):
    r = cloud.openstack('project', 'show', 'no-such-project', check=False)
    assert r.returncode == 1 and 'No Project found for no-such-project' in r.stderr


def test_demo_user_is_not_admin(cloud):
    r = cloud.openstack('project', 'create', _name('nope'), cloud='demo', check=False)
    assert r.returncode == 1 and '403' in r.stderr
    tok = cloud.openstack('token', 'issue', cloud='demo', json_out=True)
    assert tok['user_id']


def test_wrong_password_is_401(cloud):
    r = requests.post(cloud.auth_url + '/auth/tokens', json={'auth': {'identity': {
        'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'domain': {'id': 'default'}, 'password': 'wrong'}}}}},
        timeout=10)
    assert r.status_code == 401
    assert r.json()['error']['code'] == 401
    assert 'X-Subject-Token' not in r.headers


@pytest.mark.parametrize('enabled_flag', ['--disable', 'delete'])
def test_disabling_or_deleting_user_revokes_tokens(cloud, enabled_flag):
    user = _name('rev')
    cloud.openstack('user', 'create', '--password', 'pw', '--project', 'demo', user)
    cloud.openstack('role', 'add', '--project', 'demo', '--user', user, 'member')
    r = requests.post(cloud.auth_url + '/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'domain': {'id': 'default'}, 'password': 'pw'}}},
        'scope': {'project': {'name': 'demo', 'domain': {'id': 'default'}}}}}, timeout=10)
    token = r.headers['X-Subject-Token']
    url = 'http://127.0.0.1:%d/identity/v3/auth/projects' % cloud.api_port
    assert requests.get(url, headers={'X-Auth-Token': token}, timeout=10).status_code == 200
    if enabled_flag == 'delete':
        cloud.openstack('user', 'delete', user)
    else:
        cloud.openstack('user', 'set', '--disable', user)
    # Other API copies may cache a validation for token_cache_time seconds;
    # this one changed the user itself, so it knows at once.
    resp = requests.get(url, headers={'X-Auth-Token': token}, timeout=10)
    assert resp.status_code == 401
    assert resp.json()['error']['title'] == 'Unauthorized'


def test_user_resource_options(cloud):
    """Keystone's user options through the CLI: set at create, changed, shown."""
    user = _name('opts')
    u = cloud.openstack('user', 'create', '--domain', 'default', '--password', 'pw-1',
                        '--ignore-password-expiry', '--enable-lock-password', user,
                        json_out=True)
    assert u['options'] == {'ignore_password_expiry': True, 'lock_password': True}
    cloud.openstack('user', 'set', '--disable-lock-password',
                    '--ignore-lockout-failure-attempts', user)
    shown = cloud.openstack('user', 'show', user, json_out=True)
    assert shown['options'] == {'ignore_password_expiry': True, 'lock_password': False,
                                'ignore_lockout_failure_attempts': True}
    cloud.openstack('user', 'delete', user)
