"""Signed URLs: image bytes for hosts that hold no token.

A compute agent gets, over RPC, a URL such as

    http://HOST:9292/internal/images/<id>/file?expires=<epoch>&sig=<hmac>

that works without a token until ``expires``. The signature is
HMAC-SHA256 over the method, the image id and the expiry time, with a key
kept in ``$state_path/image-url.key`` (made on first use, mode 0600). Every
image service copy on a host shares the file, so any of them can check a
URL another one signed; copies on other hosts need the same file.
"""

import hashlib
import hmac
import os
import secrets
import threading
import time
import urllib.parse

from common import exception
from common.conf import CONF

KEY_FILE = 'image-url.key'

_lock = threading.Lock()
_keys = {}


def _key_path():
    return os.path.join(CONF.state_path, KEY_FILE)


def _load_key():
    path = _key_path()
    with _lock:
        key = _keys.get(path)
        if key is not None:
            return key
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = '%s.%d.%s' % (path, os.getpid(), secrets.token_hex(4))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(secrets.token_hex(32))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic; loses quietly to a copy that was first
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        with open(path) as f:
            key = f.read().strip().encode()
        if len(key) < 32:
            raise exception.ServiceUnavailable(reason='the URL signing key %s is too short'
                                               % path)
        _keys[path] = key
        return key


def forget():
    """Drop cached keys (tests point state_path elsewhere)."""
    with _lock:
        _keys.clear()


def signature(method, image_id, expires):
    msg = ('%s\n%s\n%d' % (method.upper(), image_id, int(expires))).encode()
    return hmac.new(_load_key(), msg, hashlib.sha256).hexdigest()


def base_url():
    return 'http://%s:%d' % (CONF.image.public_host, CONF.image.bind_port)


def path(image_id):
    return '/internal/images/%s/file' % image_id


def sign_url(method, image_id, ttl, now=None):
    expires = int((now if now is not None else time.time()) + ttl)
    query = urllib.parse.urlencode({'expires': expires,
                                    'sig': signature(method, image_id, expires)})
    return '%s%s?%s' % (base_url(), path(image_id), query)


def verify(method, image_id, expires, sig, now=None):
    """Raise Forbidden unless ``sig`` signs this method and image until ``expires``."""
    try:
        expires = int(expires)
    except (TypeError, ValueError):
        raise exception.Forbidden('The signed URL is not valid.') from None
    if expires < (now if now is not None else time.time()):
        raise exception.Forbidden('The signed URL has expired.')
    if not sig or not hmac.compare_digest(signature(method, image_id, expires), str(sig)):
        raise exception.Forbidden('The signed URL is not valid.')
