"""Keystone's account lockout ([security_compliance]): after
``lockout_failure_attempts`` failed password authentications in a row a
user is locked out for ``lockout_duration`` seconds: every password
authentication in that time, the right password too, is a 401 that says
the account is locked. A successful authentication starts the count again;
so does the first failure after a lock ran out. The count is the user's,
whatever project the request asks for; users with the
``ignore_lockout_failure_attempts`` option are never counted.

Each failure is written in a transaction of its own (the request fails, the
count stays), with one UPDATE that adds to what the database holds, so
concurrent failures are all counted.
"""

import datetime

import sqlalchemy as sa
from oslo_log import log as logging

from common import exception
from common.conf import CONF
from common.db import api as db_api
from common.db import models

LOG = logging.getLogger(__name__)


def _threshold(user):
    n = CONF.security_compliance.lockout_failure_attempts
    if not n or (user.options or {}).get('ignore_lockout_failure_attempts'):
        return None
    return n


def _now():
    return models.utcnow()


def check(user):
    """Raise the locked-account 401 while ``user`` is locked out."""
    n = _threshold(user)
    if n is None or (user.failed_auth_count or 0) < n or user.failed_auth_at is None:
        return
    until = user.failed_auth_at + datetime.timedelta(
        seconds=CONF.security_compliance.lockout_duration)
    if _now() < until:
        raise exception.Unauthorized('The account is locked for user: %s.' % user.id)


def record_failure(user):
    """Count one failed password authentication of ``user``."""
    n = _threshold(user)
    if n is None:
        return
    U = models.User
    count = sa.func.coalesce(U.failed_auth_count, 0)
    with db_api.session() as s:
        s.execute(sa.update(U).where(U.id == user.id).values(
            failed_auth_count=sa.case((count >= n, 1), else_=count + 1),
            failed_auth_at=_now()))
        now_count = s.scalar(sa.select(U.failed_auth_count).where(U.id == user.id))
    if now_count >= n:
        LOG.warning('User %s is locked out for %d seconds after %d failed password '
                    'authentications', user.id, CONF.security_compliance.lockout_duration,
                    now_count)


def reset(user):
    """A successful password authentication: the count starts again."""
    if not user.failed_auth_count:
        return
    U = models.User
    with db_api.session() as s:
        s.execute(sa.update(U).where(U.id == user.id).values(failed_auth_count=None,
                                                             failed_auth_at=None))
