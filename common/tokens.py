"""Token format: Fernet (AES-CBC + HMAC-SHA256) over a compact JSON payload.

Keys live in a key repository folder, like Keystone's: files named 0, 1,
2, ...; the highest number is the primary key (it encrypts), 0 is the
staged key (next primary), the rest only decrypt. Every API copy shares
the folder.
"""

import base64
import datetime
import json
import os
import threading
import uuid

from cryptography import fernet

from common import exception
from common.conf import CONF

_lock = threading.Lock()
_cache = {}


def _key_files(repo):
    try:
        names = [n for n in os.listdir(repo) if n.isdigit()]
    except FileNotFoundError:
        return []
    return sorted(names, key=int)


def setup_keys(repo=None):
    """Create the key repository with a staged and a primary key (idempotent)."""
    repo = repo or CONF.identity.key_repository
    os.makedirs(repo, mode=0o700, exist_ok=True)
    if _key_files(repo):
        return False
    for name in ('0', '1'):
        _write_key(repo, name)
    _forget()
    return True


def rotate_keys(repo=None):
    """Staged key becomes primary; a new staged key; oldest extras removed."""
    repo = repo or CONF.identity.key_repository
    names = _key_files(repo)
    if not names:
        raise exception.ServiceUnavailable(reason='no token keys: run fernet-setup')
    new_primary = str(int(names[-1]) + 1)
    os.replace(os.path.join(repo, '0'), os.path.join(repo, new_primary))
    _write_key(repo, '0')
    names = _key_files(repo)
    extras = [n for n in names if n not in ('0', new_primary)]
    while len(extras) + 2 > CONF.identity.max_active_keys:
        os.unlink(os.path.join(repo, extras.pop(0)))
    _forget()


def _write_key(repo, name):
    path = os.path.join(repo, name)
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(fernet.Fernet.generate_key())
    os.replace(tmp, path)


def _forget():
    with _lock:
        _cache.clear()


def _crypter():
    repo = CONF.identity.key_repository
    with _lock:
        cached = _cache.get(repo)
        if cached is not None:
            return cached
        names = _key_files(repo)
        if not names:
            raise exception.ServiceUnavailable(
                reason='no token keys in %s: run altostack-manage fernet-setup' % repo)
        keys = []
        for name in reversed(names):  # primary (highest) first
            with open(os.path.join(repo, name), 'rb') as f:
                keys.append(fernet.Fernet(f.read().strip()))
        crypter = fernet.MultiFernet(keys)
        _cache[repo] = crypter
        return crypter


def new_audit_id():
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip('=')


class TokenPayload:
    """What a token carries; roles and names are looked up at validation."""

    __slots__ = ('user_id', 'methods', 'project_id', 'domain_id', 'expires_at',
                 'issued_at', 'audit_ids')

    def __init__(self, user_id, methods, project_id=None, domain_id=None,
                 expires_at=None, issued_at=None, audit_ids=None):
        self.user_id = user_id
        self.methods = list(methods)
        self.project_id = project_id
        self.domain_id = domain_id
        self.issued_at = issued_at or datetime.datetime.now(datetime.timezone.utc)
        self.expires_at = expires_at or (
            self.issued_at + datetime.timedelta(seconds=CONF.identity.token_expiration))
        self.audit_ids = audit_ids or [new_audit_id()]

    def to_json(self):
        return json.dumps([1, self.user_id, self.methods, self.project_id, self.domain_id,
                           self.issued_at.timestamp(), self.expires_at.timestamp(),
                           self.audit_ids], separators=(',', ':'))

    @classmethod
    def from_json(cls, raw):
        ver, user_id, methods, project_id, domain_id, iat, exp, audit_ids = json.loads(raw)
        if ver != 1:
            raise ValueError('unknown token payload version %r' % ver)
        utc = datetime.timezone.utc
        return cls(user_id, methods, project_id, domain_id,
                   expires_at=datetime.datetime.fromtimestamp(exp, utc),
                   issued_at=datetime.datetime.fromtimestamp(iat, utc),
                   audit_ids=audit_ids)


def encode(payload):
    token = _crypter().encrypt(payload.to_json().encode())
    return token.decode().rstrip('=')


def decode(token):
    """Payload of a well-formed, unexpired token; Unauthorized otherwise."""
    if not token or len(token) > 1024:
        raise exception.Unauthorized('The token is missing or malformed.')
    padded = token + '=' * (-len(token) % 4)
    try:
        raw = _crypter().decrypt(padded.encode())
        payload = TokenPayload.from_json(raw)
    except (fernet.InvalidToken, ValueError, TypeError):
        raise exception.Unauthorized('The token is not valid.') from None
    if payload.expires_at <= datetime.datetime.now(datetime.timezone.utc):
        raise exception.Unauthorized('The token has expired.')
    return payload
