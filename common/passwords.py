"""Stored passwords: salted PBKDF2-SHA256, cost from [identity]."""

import base64
import hashlib
import hmac
import os

from common.conf import CONF

_SCHEME = 'pbkdf2_sha256'


def _b64(raw):
    return base64.b64encode(raw).decode().rstrip('=')


def _unb64(text):
    return base64.b64decode(text + '=' * (-len(text) % 4))


def hash_password(password, rounds=None):
    rounds = rounds or CONF.identity.password_hash_rounds
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac('sha256', password.encode(), salt, rounds)
    return '%s$%d$%s$%s' % (_SCHEME, rounds, _b64(salt), _b64(digest))


def verify_password(password, stored):
    """True when ``password`` matches; False for a missing or foreign hash."""
    if not stored or password is None:
        return False
    try:
        scheme, rounds, salt, digest = stored.split('$')
        if scheme != _SCHEME:
            return False
        got = hashlib.pbkdf2_hmac('sha256', password.encode(), _unb64(salt), int(rounds))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))
