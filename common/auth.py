"""Token validation: the path every authenticated API call takes.

A token is valid when it decrypts, has not expired, was not revoked, its
user and project (and their domains) exist and are enabled, the user's
password did not change after it was issued, and the user still has a
role on its scope, granted to the user or to a group the user belongs to
(``held_by``). Roles are read at validation time, so a removed role, grant
or membership takes effect at once; admin implies member implies reader.

Validated tokens are cached for [identity] token_cache_time seconds. Any
identity write calls ``changed()``, which bumps a generation counter in
memory shared by every process forked from the same parent (the API's
workers), so all of them drop their cached validations at once. API copies
on other hosts notice within token_cache_time.

With [cache] enabled, validations are shared by every API copy through
memcached instead (common/token_cache.py): ``changed()`` then also bumps
the generation there, so a revocation counts at once on every copy.
"""

import datetime
import mmap
import struct
import threading
import time
import types

import sqlalchemy as sa

from common import context as ctx_mod
from common import exception
from common import token_cache
from common import tokens
from common.conf import CONF
from common.db import api as db_api
from common.db import models

IMPLIED_ROLES = {'admin': ('member',), 'member': ('reader',)}

_lock = threading.Lock()
_shared = mmap.mmap(-1, 8)  # anonymous and shared: survives fork as one counter
_cache = {}
_CACHE_MAX = 10000


def _generation():
    return struct.unpack_from('Q', _shared)[0]


def changed():
    """Identity data changed: every process forgets its cached validations."""
    with _lock:
        struct.pack_into('Q', _shared, 0, _generation() + 1)
        _cache.clear()
    if token_cache.enabled():
        token_cache.bump()


def held_by(user_id):
    """SQL condition on role_assignments: the assignment is the user's, given
    to the user directly or to one of the user's groups. Every question of
    "which roles does this user have where" goes through here."""
    R, M = models.RoleAssignment, models.GroupMembership
    return sa.or_(R.actor_id == user_id,
                  R.actor_id.in_(sa.select(M.group_id).where(M.user_id == user_id)))


def expand_roles(direct, all_roles):
    """Direct role rows plus the ones they imply, as sorted (id, name) pairs."""
    by_name = {r.name: r for r in all_roles}
    names = {r.name for r in direct}
    todo = list(names)
    while todo:
        for implied in IMPLIED_ROLES.get(todo.pop(), ()):
            if implied not in names and implied in by_name:
                names.add(implied)
                todo.append(implied)
    found = {r.id: r.name for r in direct}
    for name in names:
        if name in by_name:
            found.setdefault(by_name[name].id, name)
    return sorted(found.items(), key=lambda kv: kv[1])


class TokenInfo:
    """A validated token: the payload plus names and effective roles."""

    def __init__(self, payload, user, user_domain, project=None, project_domain=None,
                 domain=None, roles=()):
        self.payload = payload
        self.user = user
        self.user_domain = user_domain
        self.project = project
        self.project_domain = project_domain
        self.domain = domain
        self.roles = list(roles)  # [(id, name)]

    @property
    def role_names(self):
        return [name for _id, name in self.roles]

    def to_context(self, request_id=None, global_request_id=None):
        p = self.payload
        return ctx_mod.RequestContext(
            auth_token=None, user_id=self.user.id, user_name=self.user.name,
            project_id=self.project.id if self.project else None,
            project_name=self.project.name if self.project else None,
            domain_id=self.domain.id if self.domain else None,
            user_domain_id=self.user.domain_id,
            project_domain_id=self.project.domain_id if self.project else None,
            roles=self.role_names, is_admin='admin' in self.role_names,
            audit_id=p.audit_ids[0], request_id=request_id,
            global_request_id=global_request_id, overwrite=True)


def _load(payload):
    R = models.RoleAssignment
    with db_api.reader() as s:
        row = s.execute(sa.select(models.User, models.Domain)
                        .join(models.Domain, models.Domain.id == models.User.domain_id)
                        .where(models.User.id == payload.user_id)).first()
        if row is None or not row[0].enabled or not row[1].enabled:
            raise exception.Unauthorized('The token is not valid: its user is unknown '
                                         'or disabled.')
        user, user_domain = row
        issued = payload.issued_at.replace(tzinfo=None)
        if user.tokens_valid_after and issued < user.tokens_valid_after:
            raise exception.Unauthorized('The token is not valid: it was revoked.')
        if s.scalar(sa.select(sa.func.count()).select_from(models.RevokedToken)
                    .where(models.RevokedToken.audit_id.in_(payload.audit_ids))):
            raise exception.Unauthorized('The token is not valid: it was revoked.')
        project = project_domain = domain = None
        if payload.project_id:
            row = s.execute(sa.select(models.Project, models.Domain)
                            .join(models.Domain, models.Domain.id == models.Project.domain_id)
                            .where(models.Project.id == payload.project_id)).first()
            if row is None or not row[0].enabled or not row[1].enabled:
                raise exception.Unauthorized('The token is not valid: its project is '
                                             'unknown or disabled.')
            project, project_domain = row
            target = ('project', project.id)
        elif payload.domain_id:
            domain = s.get(models.Domain, payload.domain_id)
            if domain is None or not domain.enabled:
                raise exception.Unauthorized('The token is not valid: its domain is '
                                             'unknown or disabled.')
            target = ('domain', domain.id)
        else:
            return TokenInfo(payload, user, user_domain)
        direct = list(s.scalars(
            sa.select(models.Role).join(R, R.role_id == models.Role.id)
            .where(held_by(user.id), R.target_type == target[0],
                   R.target_id == target[1]).distinct()))
        if not direct:
            raise exception.Unauthorized('The token is not valid: its user has no role '
                                         'on its scope any more.')
        all_roles = list(s.scalars(sa.select(models.Role)))
    return TokenInfo(payload, user, user_domain, project, project_domain, domain,
                     expand_roles(direct, all_roles))


# What a shared cache entry keeps of each row TokenInfo holds: what the
# callers read (names and ids for the token body, the user's default
# project for rescoping), nothing secret.
_FIELDS = {'user': ('id', 'name', 'domain_id', 'default_project_id', 'enabled', 'options'),
           'user_domain': ('id', 'name', 'enabled'),
           'project': ('id', 'name', 'domain_id', 'enabled'),
           'project_domain': ('id', 'name', 'enabled'),
           'domain': ('id', 'name', 'enabled')}


def _to_entry(info):
    entry = {'roles': info.roles}
    for attr, fields in _FIELDS.items():
        row = getattr(info, attr)
        entry[attr] = None if row is None else {f: getattr(row, f) for f in fields}
    return entry


def _from_entry(payload, entry):
    rows = {attr: None if entry[attr] is None else types.SimpleNamespace(**entry[attr])
            for attr in _FIELDS}
    return TokenInfo(payload, roles=[tuple(r) for r in entry['roles']], **rows)


def _validate_shared(token):
    """Through memcached: the token is decrypted here (its signature and
    expiry checked by this copy's keys), its user, scope and roles come
    from an entry another copy may have made."""
    payload = tokens.decode(token)
    key = token_cache.key(token)
    found = token_cache.lookup(key)  # read before the database: see token_cache
    if found is None:
        token_cache.count('database')
        return _load(payload)
    generation, entry = found
    if entry is not None:
        token_cache.count('shared_hits')
        return _from_entry(payload, entry)
    token_cache.count('shared_misses')
    info = _load(payload)
    left = (payload.expires_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    token_cache.store(key, generation, _to_entry(info), left)
    return info


def validate(token):
    """TokenInfo for a valid token; raises Unauthorized otherwise."""
    if token_cache.enabled():
        return _validate_shared(token)
    ttl = CONF.identity.token_cache_time
    now = time.monotonic()
    if ttl:
        # A cached token was decrypted and checked moments ago; only its
        # expiry can have changed since.
        hit = _cache.get(token)
        if hit is not None and hit[0] > now and hit[1] == _generation():
            if hit[2].payload.expires_at > datetime.datetime.now(datetime.timezone.utc):
                return hit[2]
    payload = tokens.decode(token)
    gen = _generation()
    info = _load(payload)
    if ttl:
        with _lock:
            if gen == _generation():
                if len(_cache) >= _CACHE_MAX:
                    _cache.clear()
                _cache[token] = (now + ttl, gen, info)
    return info
