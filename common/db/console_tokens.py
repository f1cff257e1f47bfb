"""Console tokens: issued by the compute API with each console URL, checked
by altostack-serialproxy (type serial) or altostack-novncproxy (type
novnc) when a client connects.

A token is 32 random bytes (URL-safe text); only its SHA-256 is stored, so
the table does not hold usable URLs. A token is good for connecting until
it expires ([serial_console] / [vnc] token_ttl); a session that started in time
goes on after that. Expired rows are purged when tokens are issued and by
the proxy's periodic purge. A token also stops working when its instance
is deleted or has moved to another host.
"""

import datetime
import hashlib
import secrets

import sqlalchemy as sa

from common import exception
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import console_models as conm
from common.db.models import utcnow


class InvalidToken(exception.Unauthorized):
    msg_fmt = 'The console token is not valid: %(reason)s'


def _hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def issue(instance_uuid, console_type, compute_host, host, port, ttl, now=None):
    """Store a new token for the console at ``host``:``port`` (as reached on
    ``compute_host``) of ``instance_uuid``; return the token itself."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with db_api.session() as s:
        s.execute(sa.delete(conm.ConsoleAuthToken).where(
            conm.ConsoleAuthToken.expires <= now))
        s.add(conm.ConsoleAuthToken(
            token_hash=_hash(token), console_type=console_type,
            instance_uuid=instance_uuid, compute_host=compute_host, host=host,
            port=int(port), created_at=now,
            expires=now + datetime.timedelta(seconds=ttl)))
    return token


def validate(token, console_type='serial', now=None):
    """The console a token opens, as a dict (instance_uuid, console_type,
    compute_host, host, port, expires); raises InvalidToken when the token
    is unknown, expired, for another console type, or its instance is gone
    or elsewhere."""
    if not token or len(token) > 256:
        raise InvalidToken(reason='no such token')
    now = now or utcnow()
    with db_api.reader() as s:
        row = s.scalars(sa.select(conm.ConsoleAuthToken).where(
            conm.ConsoleAuthToken.token_hash == _hash(token))).first()
        if row is None:
            raise InvalidToken(reason='no such token')
        if row.expires <= now:
            raise InvalidToken(reason='it expired')
        if row.console_type != console_type:
            raise InvalidToken(reason='it is for a %s console' % row.console_type)
        inst = s.scalars(sa.select(cm.Instance).where(
            cm.Instance.uuid == row.instance_uuid,
            cm.Instance.deleted.is_(False))).first()
        if inst is None:
            raise InvalidToken(reason='its server is gone')
        if inst.host != row.compute_host:
            raise InvalidToken(reason='its server moved to another host')
        return {'instance_uuid': row.instance_uuid, 'console_type': row.console_type,
                'compute_host': row.compute_host, 'host': row.host, 'port': row.port,
                'expires': row.expires}


def purge_expired(now=None):
    """Delete the rows of expired tokens; returns how many went."""
    now = now or utcnow()
    with db_api.session() as s:
        return s.execute(sa.delete(conm.ConsoleAuthToken).where(
            conm.ConsoleAuthToken.expires <= now)).rowcount


def delete_for_instance(instance_uuid):
    """Forget every token of an instance (it is deleted or moved)."""
    with db_api.session() as s:
        return s.execute(sa.delete(conm.ConsoleAuthToken).where(
            conm.ConsoleAuthToken.instance_uuid == instance_uuid)).rowcount
