"""Regression (issue 16, scenario 8): a request whose password broke its
schema (a number, too long) was refused with the password in the message,
which the API also logs; now the message names the rule, never the value."""

import logging

from tests.fixtures.identity import DEMO_PW


def _auth(password):
    return {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'demo', 'domain': {'id': 'default'}, 'password': password}}}}}


def test_a_password_that_breaks_the_schema_is_not_echoed_nor_logged(client, admin_token,
                                                                   caplog):
    caplog.set_level(logging.INFO)
    r = client.post('/identity/v3/auth/tokens', json=_auth(987654321))
    assert r.status_code == 400
    message = r.get_json()['error']['message']
    assert message == ("Invalid input for field 'auth.identity.password.user.password': "
                       'the value does not satisfy type "string".')
    secret = 'S3cr3t-' * 700
    r = client.post('/identity/v3/users', headers={'X-Auth-Token': admin_token},
                    json={'user': {'name': 'x', 'password': secret}})
    assert r.status_code == 400
    assert 'maxLength 4096' in r.get_json()['error']['message']
    r = client.post('/identity/v3/auth/tokens', json={'auth': {'identity': {
        'methods': 'password', 'password': {'user': {'password': DEMO_PW}}}}})
    assert r.status_code == 400
    for text in (r.get_data(as_text=True), caplog.text):
        assert '987654321' not in text and 'S3cr3t-' not in text and DEMO_PW not in text


def test_other_fields_still_name_their_value(client, admin_token):
    r = client.post('/identity/v3/users', headers={'X-Auth-Token': admin_token},
                    json={'user': {'name': 12345}})
    assert r.status_code == 400
    assert '12345' in r.get_json()['error']['message']
