"""[security_compliance] lockout: N failed password authentications lock the
user (not a project) for lockout_duration seconds, with Keystone's 401;
a success starts the count again; exempt users are never locked."""

import datetime

import pytest

from api.identity import lockout
from common.conf import CONF
from common.db import models
from tests.fixtures.identity import ADMIN_PW
from tests.fixtures.identity import issue


@pytest.fixture
def lockout_conf(conf):
    CONF.set_override('lockout_failure_attempts', 3, 'security_compliance')
    CONF.set_override('lockout_duration', 60, 'security_compliance')
    yield
    CONF.clear_override('lockout_failure_attempts', 'security_compliance')
    CONF.clear_override('lockout_duration', 'security_compliance')


def _user(client, admin_token, name, options=None):
    body = {'name': name, 'password': 'right'}
    if options:
        body['options'] = options
    r = client.post('/identity/v3/users', headers={'X-Auth-Token': admin_token},
                    json={'user': body})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()['user']


def test_locked_after_n_failures_even_with_the_right_password(client, admin_token,
                                                               lockout_conf):
    user = _user(client, admin_token, 'lock-me')
    for _ in range(3):
        _, body = issue(client, 'lock-me', 'wrong', expect=401)
        assert body['error']['message'] == ('The request you have made requires '
                                            'authentication.')
    _, body = issue(client, 'lock-me', 'right', expect=401)
    assert body['error'] == {'code': 401, 'title': 'Unauthorized',
                             'message': 'The account is locked for user: %s.' % user['id']}
    # other users are not locked
    issue(client, 'admin', ADMIN_PW)


def test_lock_runs_out(client, admin_token, lockout_conf, monkeypatch):
    _user(client, admin_token, 'lock-me')
    for _ in range(3):
        issue(client, 'lock-me', 'wrong', expect=401)
    later = models.utcnow() + datetime.timedelta(seconds=61)
    monkeypatch.setattr(lockout, '_now', lambda: later)
    issue(client, 'lock-me', 'right')


def test_success_resets_the_count(client, admin_token, lockout_conf):
    _user(client, admin_token, 'lock-me')
    for _ in range(2):
        issue(client, 'lock-me', 'wrong', expect=401)
    issue(client, 'lock-me', 'right')
    for _ in range(2):
        issue(client, 'lock-me', 'wrong', expect=401)
    issue(client, 'lock-me', 'right')


def test_exempt_user_and_lockout_off(client, admin_token, conf):
    _user(client, admin_token, 'free', {'ignore_lockout_failure_attempts': True})
    _user(client, admin_token, 'plain')
    CONF.set_override('lockout_failure_attempts', 2, 'security_compliance')
    try:
        for _ in range(4):
            issue(client, 'free', 'wrong', expect=401)
        issue(client, 'free', 'right')
    finally:
        CONF.clear_override('lockout_failure_attempts', 'security_compliance')
    # off (the default): never locked
    for _ in range(4):
        issue(client, 'plain', 'wrong', expect=401)
    issue(client, 'plain', 'right')


def test_wrong_original_passwords_count_too(client, admin_token, lockout_conf):
    user = _user(client, admin_token, 'lock-me')
    token = issue(client, 'lock-me', 'right')[0]
    url = '/identity/v3/users/%s/password' % user['id']
    for _ in range(3):
        r = client.post(url, headers={'X-Auth-Token': token}, json={'user': {
            'password': 'new', 'original_password': 'wrong'}})
        assert r.status_code == 401
    r = client.post(url, headers={'X-Auth-Token': token}, json={'user': {
        'password': 'new', 'original_password': 'right'}})
    assert r.status_code == 401
    assert r.get_json()['error']['message'] == ('The account is locked for user: %s.'
                                                % user['id'])
    issue(client, 'lock-me', 'right', expect=401)
