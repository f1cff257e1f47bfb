"""POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth helpers."""

import flask
import sqlalchemy as sa
from oslo_log import log as logging

from api import http
from api.identity import assignments
from api.identity import catalog
from api.identity import lockout
from api.identity import resources
from api.identity import schemas
from common import auth
from common import exception
from common import passwords
from common import policy
from common import tokens
from common.db import api as db_api
from common.db import models

LOG = logging.getLogger(__name__)
_AUTH_FAILED = 'The request you have made requires authentication.'


def _iso(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.%f') + 'Z'


def _find_domain(s, ref):
    if ref.get('id'):
        dom = s.get(models.Domain, ref['id'])
    elif ref.get('name'):
        dom = s.scalars(sa.select(models.Domain).where(models.Domain.name == ref['name'])).first()
    else:
        raise exception.BadRequest('A domain needs an id or a name.')
    if dom is None:
        raise exception.Unauthorized('Could not find domain: %s.' % (ref.get('id') or
                                                                      ref.get('name')))
    return dom


def _password_user(s, ref):
    if ref.get('id'):
        user = s.get(models.User, ref['id'])
    elif ref.get('name'):
        if not ref.get('domain'):
            raise exception.BadRequest('A user given by name needs its domain.')
        dom = _find_domain(s, ref['domain'])
        user = s.scalars(sa.select(models.User).where(models.User.name == ref['name'],
                                                      models.User.domain_id == dom.id)).first()
    else:
        raise exception.BadRequest('A user needs an id or a name.')
    if user is not None:
        lockout.check(user)
    # Hash even for an unknown user, so timing does not tell who exists.
    ok = passwords.verify_password(ref['password'], user.password_hash if user else
                                   _DUMMY_HASH())
    if user is None or not ok:
        LOG.info('Password authentication failed for user %s',
                 ref.get('id') or ref.get('name'))
        if user is not None:
            lockout.record_failure(user)
        raise exception.Unauthorized(_AUTH_FAILED)
    lockout.reset(user)
    if not user.enabled:
        raise exception.Unauthorized('The account is disabled for user: %s.' % user.id)
    return user


_dummy = []


def _DUMMY_HASH():
    if not _dummy:
        _dummy.append(passwords.hash_password('not a password'))
    return _dummy[0]


def _scope(s, scope, user):
    """(project_id, domain_id) for the requested scope, checked."""
    R = models.RoleAssignment

    def has_role(ttype, tid):
        return s.scalars(sa.select(R).where(auth.held_by(user.id), R.target_type == ttype,
                                            R.target_id == tid)).first() is not None

    if scope == 'unscoped':
        return None, None
    if not scope:
        pid = user.default_project_id
        if pid and (p := s.get(models.Project, pid)) and p.enabled and \
                has_role('project', pid):
            return pid, None
        return None, None
    if 'system' in scope:
        raise exception.BadRequest('System-scoped tokens are not supported; scope the '
                                   'token to a project or a domain.')
    if 'project' in scope:
        ref = scope['project']
        if ref.get('id'):
            project = s.get(models.Project, ref['id'])
        elif ref.get('name') and ref.get('domain'):
            dom = _find_domain(s, ref['domain'])
            project = s.scalars(sa.select(models.Project).where(
                models.Project.name == ref['name'], models.Project.domain_id == dom.id)).first()
        else:
            raise exception.BadRequest('A project scope needs an id, or a name and a domain.')
        if project is None:
            raise exception.Unauthorized('Could not find project: %s.'
                                         % (ref.get('id') or ref.get('name')))
        if not project.enabled:
            raise exception.Unauthorized('Project %s is disabled.' % project.id)
        if not has_role('project', project.id):
            raise exception.Unauthorized('User %s has no access to project %s.'
                                         % (user.id, project.id))
        return project.id, None
    if 'domain' in scope:
        dom = _find_domain(s, scope['domain'])
        if not dom.enabled:
            raise exception.Unauthorized('Domain %s is disabled.' % dom.id)
        if not has_role('domain', dom.id):
            raise exception.Unauthorized('User %s has no access to domain %s.'
                                         % (user.id, dom.id))
        return None, dom.id
    raise exception.BadRequest('The scope must name a project or a domain.')


def render_token(info, with_catalog=True):
    p = info.payload
    body = {
        'methods': p.methods,
        'user': {'id': info.user.id, 'name': info.user.name,
                 'domain': {'id': info.user_domain.id, 'name': info.user_domain.name},
                 'password_expires_at': None},
        'audit_ids': p.audit_ids,
        'expires_at': _iso(p.expires_at),
        'issued_at': _iso(p.issued_at),
    }
    if info.project is not None:
        body['project'] = {'id': info.project.id, 'name': info.project.name,
                           'domain': {'id': info.project_domain.id,
                                      'name': info.project_domain.name}}
        body['is_domain'] = False
    elif info.domain is not None:
        body['domain'] = {'id': info.domain.id, 'name': info.domain.name}
    if info.roles:
        body['roles'] = [{'id': i, 'name': n} for i, n in info.roles]
    if with_catalog and (info.project is not None or info.domain is not None):
        body['catalog'] = catalog.build(info.project.id if info.project else None)
    return {'token': body}


# The authentication methods this cloud offers; as in Keystone, a rule's
# methods that are not offered are left out, and a rule left empty goes.
_METHODS = ('password', 'token')


def _check_mfa_rules(user, methods):
    """A user with multi-factor rules must satisfy one of them."""
    options = user.options or {}
    if not options.get('multi_factor_auth_enabled'):
        return
    rules = [set(m for m in rule if m in _METHODS)
             for rule in options.get('multi_factor_auth_rules') or []]
    rules = [rule for rule in rules if rule]
    if rules and not any(rule <= set(methods) for rule in rules):
        raise exception.Unauthorized(
            'Insufficient authentication methods: this user must authenticate with %s.'
            % ' or '.join('+'.join(sorted(rule)) for rule in rules))


@http.public
def issue_token():
    body = http.json_body(schemas.auth)['auth']
    ident = body['identity']
    methods = ident['methods']
    expires_at = None
    audit_ids = None
    with db_api.reader() as s:
        if 'password' in methods:
            if 'password' not in ident:
                raise exception.BadRequest('The password method needs a "password" object.')
            user = _password_user(s, ident['password']['user'])
            _check_mfa_rules(user, methods)
        elif 'token' in methods:
            if 'token' not in ident:
                raise exception.BadRequest('The token method needs a "token" object.')
            old = auth.validate(ident['token']['id'])
            user = old.user
            expires_at = old.payload.expires_at
            audit_ids = [tokens.new_audit_id(), old.payload.audit_ids[0]]
        else:
            raise exception.Unauthorized('Unsupported authentication method: %s.'
                                         % ', '.join(methods))
        project_id, domain_id = _scope(s, body.get('scope'), user)
    payload = tokens.TokenPayload(user.id, [m for m in methods if m in ('password', 'token')],
                                  project_id, domain_id, expires_at=expires_at,
                                  audit_ids=audit_ids)
    token = tokens.encode(payload)
    info = auth.validate(token)
    nocatalog = 'nocatalog' in flask.request.args
    return http.reply(render_token(info, not nocatalog), status=201,
                      headers={'X-Subject-Token': token})


def _subject():
    subject = flask.request.headers.get('X-Subject-Token')
    if not subject:
        raise exception.BadRequest('The X-Subject-Token header is missing.')
    try:
        return subject, auth.validate(subject)
    except exception.Unauthorized as e:
        raise exception.NotFound('Failed to validate token: %s' % e.message) from None


def validate_token():
    subject, info = _subject()
    policy.authorize(http.context(), 'identity:validate_token',
                     {'target.token.user_id': info.user.id})
    nocatalog = 'nocatalog' in flask.request.args
    return http.reply(render_token(info, not nocatalog), headers={'X-Subject-Token': subject})


def check_token():
    subject, info = _subject()
    policy.authorize(http.context(), 'identity:validate_token',
                     {'target.token.user_id': info.user.id})
    return http.reply(status=200, headers={'X-Subject-Token': subject})


def revoke_token():
    _subject_token, info = _subject()
    policy.authorize(http.context(), 'identity:revoke_token',
                     {'target.token.user_id': info.user.id})
    with db_api.session() as s:
        for audit_id in info.payload.audit_ids[:1]:
            if s.get(models.RevokedToken, audit_id) is None:
                s.add(models.RevokedToken(audit_id=audit_id,
                                          expires_at=info.payload.expires_at.replace(
                                              tzinfo=None)))
    auth.changed()
    return http.reply(status=204)


def auth_catalog():
    info = flask.g.token_info
    if info.project is None and info.domain is None:
        raise exception.Forbidden('An unscoped token has no catalog.')
    return http.reply({'catalog': catalog.build(info.project.id if info.project else None),
                       'links': resources.links('auth', 'catalog')})


def auth_projects():
    info = flask.g.token_info
    projects = [p for p in assignments.projects_of(info.user.id) if p.enabled]
    return http.reply({'projects': [resources.Projects().render(p) for p in projects],
                       'links': resources.links('auth', 'projects')})


def auth_domains():
    info = flask.g.token_info
    R = models.RoleAssignment
    with db_api.reader() as s:
        doms = list(s.scalars(sa.select(models.Domain).where(models.Domain.id.in_(
            sa.select(R.target_id).where(auth.held_by(info.user.id),
                                         R.target_type == 'domain')))))
    return http.reply({'domains': [resources.Domains().render(d) for d in doms],
                       'links': resources.links('auth', 'domains')})


def change_password(user_id):
    policy.authorize(http.context(), 'identity:change_password', {'user_id': user_id})
    body = http.json_body(schemas.password_change)['user']
    with db_api.reader() as s:
        user = resources.get_or_404(s, models.User, 'user', user_id)
    if (user.options or {}).get('lock_password'):
        raise exception.Forbidden('You cannot change your password: it is locked '
                                  '(lock_password). An administrator can reset it.')
    # The original password is a password authentication: the lockout counts
    # it (else it would be a way round the lockout).
    lockout.check(user)
    if not passwords.verify_password(body['original_password'], user.password_hash):
        lockout.record_failure(user)
        raise exception.Unauthorized(_AUTH_FAILED)
    with db_api.session() as s:
        user = resources.get_or_404(s, models.User, 'user', user_id)
        user.password_hash = passwords.hash_password(body['password'])
        user.tokens_valid_after = models.utcnow()
        user.failed_auth_count = user.failed_auth_at = None
    auth.changed()
    return http.reply(status=204)
