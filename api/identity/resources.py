"""Identity resources with plain create/read/update/delete: domains,
projects, users, groups, roles, services, endpoints and regions.

One ``Resource`` subclass per kind says what differs (fields, filters,
checks); ``views(resource)`` makes the five HTTP handlers for any of them.
"""

import uuid

import flask
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from api import http
from api.identity import schemas
from common import auth
from common import exception
from common import passwords
from common import policy
from common.db import api as db_api
from common.db import models


def new_id():
    return uuid.uuid4().hex


def links(*parts):
    return {'self': http.url('identity/v3', *parts), 'previous': None, 'next': None}


def get_or_404(s, model, kind, id_):
    row = s.get(model, id_)
    if row is None:
        raise exception.ResourceNotFound(kind=kind, id=id_)
    return row


class Resource:
    member = collection = None
    model = None
    fields = ()
    filters = ()
    props = {}
    required = ()
    unique_in = None  # column that scopes the unique name, e.g. 'domain_id'
    defaults = {}

    def render(self, row):
        d = {f: getattr(row, f) for f in self.fields}
        d['links'] = {'self': http.url('identity/v3', self.collection, row.id)}
        return d

    def prepare(self, s, values, row=None):
        """Check and complete values before a create (row None) or update."""
        return values

    def before_delete(self, s, row):
        pass

    def target(self, id_):
        return {'id': id_}

    def name_clash(self, s, values, row=None):
        name = values.get('name')
        if name is None or 'name' not in self.fields:
            return
        q = sa.select(self.model).where(self.model.name == name)
        scope = None
        if self.unique_in:
            scope = values.get(self.unique_in, getattr(row, self.unique_in, None))
            q = q.where(getattr(self.model, self.unique_in) == scope)
        other = s.scalars(q).first()
        if other is not None and (row is None or other.id != row.id):
            where = ' in %s %s' % (self.unique_in.replace('_id', ''), scope) if scope else ''
            raise exception.Duplicate(kind=self.member,
                                      reason='a %s named %s already exists%s'
                                      % (self.member, name, where))


class Domains(Resource):
    member, collection, model = 'domain', 'domains', models.Domain
    fields = ('id', 'name', 'description', 'enabled')
    filters = ('name', 'enabled')
    props, required = schemas.domain, ('name',)

    def render(self, row):
        d = super().render(row)
        d.update(tags=[], options={})
        return d

    def prepare(self, s, values, row=None):
        values.pop('tags', None)
        values.pop('options', None)
        explicit = values.pop('explicit_domain_id', None)
        if row is None and explicit:
            values['id'] = explicit
        return values

    def target(self, id_):
        return {'domain_id': id_}

    def before_delete(self, s, row):
        if row.enabled:
            raise exception.Forbidden('Cannot delete a domain that is enabled, please '
                                      'disable it first.')
        for model in (models.Project, models.User, models.Group):
            for child in s.scalars(sa.select(model).where(model.domain_id == row.id)):
                _drop_assignments(s, child.id)
                s.delete(child)
        _drop_assignments(s, row.id)


class Projects(Resource):
    member, collection, model = 'project', 'projects', models.Project
    fields = ('id', 'name', 'domain_id', 'description', 'enabled')
    filters = ('name', 'domain_id', 'enabled')
    props, required = schemas.project, ('name',)
    unique_in = 'domain_id'

    def render(self, row):
        d = super().render(row)
        d.update(parent_id=row.domain_id, is_domain=False, tags=[], options={})
        return d

    def prepare(self, s, values, row=None):
        for key in ('tags', 'options', 'is_domain'):
            values.pop(key, None)
        parent = values.pop('parent_id', None)
        if row is None:
            values.setdefault('domain_id', flask.g.context.project_domain_id or 'default')
            get_or_404(s, models.Domain, 'domain', values['domain_id'])
            if parent and parent != values['domain_id']:
                raise exception.BadRequest('Project hierarchies are not supported: the '
                                           'parent_id must be the project\'s domain.')
        elif 'domain_id' in values and values['domain_id'] != row.domain_id:
            raise exception.BadRequest('A project cannot move to another domain.')
        return values

    def target(self, id_):
        return {'project_id': id_}

    def before_delete(self, s, row):
        _drop_assignments(s, row.id)


class Users(Resource):
    member, collection, model = 'user', 'users', models.User
    fields = ('id', 'name', 'domain_id', 'enabled', 'default_project_id', 'email',
              'description')
    filters = ('name', 'domain_id', 'enabled')
    props, required = schemas.user, ('name',)
    unique_in = 'domain_id'

    def render(self, row):
        d = super().render(row)
        for key in ('default_project_id', 'email', 'description'):
            if d[key] is None:
                del d[key]
        d.update(password_expires_at=None, options=dict(row.options or {}))
        return d

    def prepare(self, s, values, row=None):
        if 'options' in values:
            # as in Keystone: the options given are set, a null one unset,
            # the others kept
            options = dict((row.options if row is not None else None) or {})
            for name, value in values['options'].items():
                if value is None:
                    options.pop(name, None)
                else:
                    options[name] = value
            values['options'] = options
        values.pop('federated', None)
        if row is None:
            values.setdefault('domain_id', flask.g.context.user_domain_id or 'default')
            get_or_404(s, models.Domain, 'domain', values['domain_id'])
        elif 'domain_id' in values and values['domain_id'] != row.domain_id:
            raise exception.BadRequest('A user cannot move to another domain.')
        if values.get('default_project_id'):
            get_or_404(s, models.Project, 'project', values['default_project_id'])
        if 'password' in values:
            pw = values.pop('password')
            values['password_hash'] = passwords.hash_password(pw) if pw else None
            if row is not None:
                values['tokens_valid_after'] = models.utcnow()
        return values

    def target(self, id_):
        return {'user_id': id_}

    def before_delete(self, s, row):
        _drop_assignments(s, row.id)


class Groups(Resource):
    member, collection, model = 'group', 'groups', models.Group
    fields = ('id', 'name', 'domain_id', 'description')
    filters = ('name', 'domain_id')
    props, required = schemas.group, ('name',)
    unique_in = 'domain_id'

    def prepare(self, s, values, row=None):
        if row is None:
            values.setdefault('domain_id', flask.g.context.user_domain_id or 'default')
            get_or_404(s, models.Domain, 'domain', values['domain_id'])
        elif 'domain_id' in values and values['domain_id'] != row.domain_id:
            raise exception.BadRequest('A group cannot move to another domain.')
        return values

    def target(self, id_):
        return {'group_id': id_}

    def before_delete(self, s, row):
        _drop_assignments(s, row.id)


class Roles(Resource):
    member, collection, model = 'role', 'roles', models.Role
    fields = ('id', 'name', 'description')
    filters = ('name',)
    props, required = schemas.role, ('name',)

    def render(self, row):
        d = super().render(row)
        d.update(domain_id=None, options={})
        return d

    def prepare(self, s, values, row=None):
        values.pop('options', None)
        values.pop('domain_id', None)
        return values

    def before_delete(self, s, row):
        s.execute(sa.delete(models.RoleAssignment)
                  .where(models.RoleAssignment.role_id == row.id))


class Services(Resource):
    member, collection, model = 'service', 'services', models.CatalogService
    fields = ('id', 'type', 'name', 'description', 'enabled')
    filters = ('type', 'name')
    props, required = schemas.service, ('type',)

    def name_clash(self, s, values, row=None):
        return None  # keystone allows two services of one name

    def before_delete(self, s, row):
        s.execute(sa.delete(models.CatalogEndpoint)
                  .where(models.CatalogEndpoint.service_id == row.id))


class Endpoints(Resource):
    member, collection, model = 'endpoint', 'endpoints', models.CatalogEndpoint
    fields = ('id', 'service_id', 'interface', 'region_id', 'url', 'enabled')
    filters = ('service_id', 'interface', 'region_id')
    props, required = schemas.endpoint, ('service_id', 'interface', 'url')

    def render(self, row):
        d = super().render(row)
        d['region'] = row.region_id
        return d

    def prepare(self, s, values, row=None):
        region = values.pop('region', None)
        if region and not values.get('region_id'):
            values['region_id'] = region
        if values.get('service_id'):
            get_or_404(s, models.CatalogService, 'service', values['service_id'])
        if values.get('region_id'):
            get_or_404(s, models.Region, 'region', values['region_id'])
        return values


class Regions(Resource):
    member, collection, model = 'region', 'regions', models.Region
    fields = ('id', 'description', 'parent_region_id')
    filters = ('parent_region_id',)
    props, required = schemas.region, ()

    def prepare(self, s, values, row=None):
        if values.get('parent_region_id'):
            get_or_404(s, models.Region, 'region', values['parent_region_id'])
        return values

    def before_delete(self, s, row):
        if s.scalars(sa.select(models.Region)
                     .where(models.Region.parent_region_id == row.id)).first():
            raise exception.Conflict(reason='region %s has child regions' % row.id)


def _drop_assignments(s, id_):
    """Forget the grants to or on a user, group, project or domain, and the
    group memberships of a user or group."""
    R, M = models.RoleAssignment, models.GroupMembership
    s.execute(sa.delete(R).where(sa.or_(R.actor_id == id_, R.target_id == id_)))
    s.execute(sa.delete(M).where(sa.or_(M.user_id == id_, M.group_id == id_)))


def _filter_value(col, raw):
    if isinstance(col.type, sa.Boolean):
        return raw.lower() in ('true', '1', 'yes')
    return raw


def views(res):
    """The list, get, create, update and delete handlers of one resource."""
    create_schema = schemas.wrap(res.member, res.props, res.required)
    update_schema = schemas.wrap(res.member, {k: v for k, v in res.props.items()
                                              if k != 'id'})

    def list_():
        ctx = http.context()
        policy.authorize(ctx, 'identity:list_%s' % res.collection, {})
        q = sa.select(res.model)
        for f in res.filters:
            raw = flask.request.args.get(f)
            if raw is not None:
                col = getattr(res.model, f)
                q = q.where(col == _filter_value(col, raw))
        with db_api.reader() as s:
            rows = list(s.scalars(q.order_by(res.model.id)))
        return http.reply({res.collection: [res.render(r) for r in rows],
                           'links': links(res.collection)})

    def get(id_):
        ctx = http.context()
        policy.authorize(ctx, 'identity:get_%s' % res.member, res.target(id_))
        # A plain row (no ORM object): this read is on hot paths.
        table = res.model.__table__
        with db_api.reader() as s:
            row = s.execute(sa.select(table).where(table.c.id == id_)).first()
        if row is None:
            raise exception.ResourceNotFound(kind=res.member, id=id_)
        return http.reply({res.member: res.render(row)})

    def create():
        ctx = http.context()
        policy.authorize(ctx, 'identity:create_%s' % res.member, {})
        values = dict(http.json_body(create_schema)[res.member])
        try:
            with db_api.session() as s:
                values = res.prepare(s, values)
                values.setdefault('id', new_id())
                if s.get(res.model, values['id']) is not None:
                    raise exception.Duplicate(kind=res.member,
                                              reason='id %s is taken' % values['id'])
                res.name_clash(s, values)
                row = res.model(**values)
                s.add(row)
        except sa_exc.IntegrityError:
            raise exception.Duplicate(kind=res.member,
                                      reason='a %s with these values exists' % res.member
                                      ) from None
        auth.changed()
        return http.reply({res.member: res.render(row)}, status=201)

    def update(id_):
        ctx = http.context()
        policy.authorize(ctx, 'identity:update_%s' % res.member, res.target(id_))
        values = dict(http.json_body(update_schema)[res.member])
        try:
            with db_api.session() as s:
                row = get_or_404(s, res.model, res.member, id_)
                values = res.prepare(s, values, row)
                res.name_clash(s, values, row)
                for k, v in values.items():
                    setattr(row, k, v)
        except sa_exc.IntegrityError:
            raise exception.Duplicate(kind=res.member,
                                      reason='a %s with these values exists' % res.member
                                      ) from None
        auth.changed()
        return http.reply({res.member: res.render(row)})

    def delete(id_):
        ctx = http.context()
        policy.authorize(ctx, 'identity:delete_%s' % res.member, res.target(id_))
        with db_api.session() as s:
            row = get_or_404(s, res.model, res.member, id_)
            res.before_delete(s, row)
            s.delete(row)
        auth.changed()
        return http.reply(status=204)

    for fn, verb in ((list_, 'list'), (get, 'get'), (create, 'create'),
                     (update, 'update'), (delete, 'delete')):
        fn.__name__ = '%s_%s' % (verb, res.collection)
    return list_, get, create, update, delete


ALL = (Domains(), Projects(), Users(), Groups(), Roles(), Services(), Endpoints(),
       Regions())
