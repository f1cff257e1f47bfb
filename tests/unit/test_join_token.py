"""Join tokens (common/join_token.py): what a token carries, and what is
refused before the controller is asked."""

import base64
import json
import time

import pytest

from common import join_token


def token(**kw):
    args = dict(name='node7', secret='s3cret', controllers=['10.1.0.1', '10.1.0.2'],
                port=5672, vhost='cloud', user='altostack-node-node7-ab', password='p/w@:x',
                expires=int(time.time()) + 600, options={'DEFAULT.report_interval': '2'})
    args.update(kw)
    return join_token.encode(**args)


def test_round_trip_is_url_safe_text():
    text = token()
    assert text.startswith(join_token.PREFIX)
    body = text[len(join_token.PREFIX):]
    assert set(body) <= set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
    got = join_token.decode(text)
    assert got['name'] == 'node7' and got['secret'] == 's3cret'
    assert got['controllers'] == ['10.1.0.1', '10.1.0.2'] and got['port'] == 5672
    assert got['options'] == {'DEFAULT.report_interval': '2'}


def test_no_database_credentials_in_it():
    raw = base64.urlsafe_b64decode(token()[len(join_token.PREFIX):] + '==')
    assert set(json.loads(raw)) == set(join_token.FIELDS) | {'role'}
    assert b'connection' not in raw and b'mysql' not in raw and b'sqlite' not in raw


def test_expired_is_refused_with_what_to_do():
    with pytest.raises(join_token.InvalidJoinToken, match='expired.*node add node7'):
        join_token.decode(token(expires=int(time.time()) - 1))


@pytest.mark.parametrize('text', ['', 'hello', join_token.PREFIX + '!!!',
                                  join_token.PREFIX + 'e30'])  # e30 = {}
def test_damaged_or_foreign_text_is_refused(text):
    with pytest.raises(join_token.InvalidJoinToken):
        join_token.decode(text)


def test_transport_url_names_every_controller_with_the_nodes_own_user():
    url = join_token.transport_url(join_token.decode(token()))
    assert url == ('rabbit://altostack-node-node7-ab:p%2Fw%40%3Ax@10.1.0.1:5672,'
                   'altostack-node-node7-ab:p%2Fw%40%3Ax@10.1.0.2:5672/cloud')


def test_secret_hash_is_sha256_hex():
    assert len(join_token.secret_hash('x')) == 64
    assert join_token.secret_hash('x') != join_token.secret_hash('y')
