import datetime
import os

import pytest

from common import exception
from common import tokens


@pytest.fixture
def keys(conf):
    tokens.setup_keys()
    return conf.identity.key_repository


def test_round_trip(keys):
    p = tokens.TokenPayload('u1', ['password'], project_id='p1')
    back = tokens.decode(tokens.encode(p))
    assert (back.user_id, back.methods, back.project_id, back.domain_id) == \
        ('u1', ['password'], 'p1', None)
    assert back.audit_ids == p.audit_ids
    assert abs((back.expires_at - p.expires_at).total_seconds()) < 1e-3


def test_expired_token_is_rejected(keys):
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    token = tokens.encode(tokens.TokenPayload('u1', ['password'], expires_at=past))
    with pytest.raises(exception.Unauthorized, match='expired'):
        tokens.decode(token)


@pytest.mark.parametrize('garbage', ['', 'x', 'gAAAAA' + 'A' * 100, 'z' * 2000])
def test_garbage_is_rejected(keys, garbage):
    with pytest.raises(exception.Unauthorized):
        tokens.decode(garbage)


def test_tampered_token_is_rejected(keys):
    token = tokens.encode(tokens.TokenPayload('u1', ['password']))
    flipped = token[:50] + ('A' if token[50] != 'A' else 'B') + token[51:]
    with pytest.raises(exception.Unauthorized):
        tokens.decode(flipped)


def test_rotation_keeps_old_tokens_valid_until_key_is_gone(keys):
    token = tokens.encode(tokens.TokenPayload('u1', ['password']))
    tokens.rotate_keys()
    assert tokens.decode(token).user_id == 'u1'
    assert sorted(os.listdir(keys), key=int) == ['0', '1', '2']
    tokens.rotate_keys()  # max_active_keys=3: key 1 goes
    assert sorted(os.listdir(keys), key=int) == ['0', '2', '3']
    with pytest.raises(exception.Unauthorized):
        tokens.decode(token)


def test_setup_is_idempotent(keys):
    assert tokens.setup_keys() is False


def test_no_keys_is_a_clear_error(conf):
    with pytest.raises(exception.ServiceUnavailable, match='fernet-setup'):
        tokens.encode(tokens.TokenPayload('u1', ['password']))
