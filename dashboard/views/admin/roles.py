"""Role assignments: who holds which role where (filters by project, user,
group and role, in the URL), with names; grant a role to a user or a group
on a project, revoke one."""

import flask

from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_roles', '/admin/roles')
ADMIN_NAV = [('admin_roles.index', 'Role assignments')]

# URL argument -> role_assignments filter
FILTERS = {'project': 'scope.project.id', 'user': 'user.id', 'group': 'group.id',
           'role': 'role.id'}


def _sorted(body, key):
    return sorted(body[key], key=lambda x: x['name'].lower())


def assignment_path(project, role, user=None, group=None, domain=None):
    target = 'domains/%s' % domain if domain else 'projects/%s' % project
    actor = 'users/%s' % user if user else 'groups/%s' % group
    return '/%s/%s/roles/%s' % (target, actor, role)


@bp.route('/')
@admin_only
def index():
    args = flask.request.args
    params = {FILTERS[k]: args[k] for k in FILTERS if args.get(k)}
    params['include_names'] = 'True'
    assignments = admin.get('identity', '/role_assignments', **params)['role_assignments']
    assignments.sort(key=lambda a: (
        ((a.get('scope') or {}).get('project') or (a.get('scope') or {}).get('domain')
         or {}).get('name') or '',
        (a.get('user') or a.get('group') or {}).get('name') or '', a['role'].get('name') or ''))
    return flask.render_template(
        'admin/roles.html', assignments=assignments,
        roles=_sorted(admin.get('identity', '/roles'), 'roles'),
        users=_sorted(admin.get('identity', '/users'), 'users'),
        groups=_sorted(admin.get('identity', '/groups'), 'groups'),
        projects=admin.all_projects(), filters={k: args.get(k, '') for k in FILTERS})


def _back():
    back = flask.request.form.get('next') or flask.url_for('.index')
    return back if back.startswith('/') and not back.startswith('//') else \
        flask.url_for('.index')


@bp.route('/grant', methods=['POST'])
@admin_only
def grant():
    role, project = admin.field('role'), admin.field('project')
    user, group = admin.field('user'), admin.field('group')
    if not role or not project:
        admin.refuse('Choose a role and a project.')
    if bool(user) == bool(group):
        admin.refuse('Choose either a user or a group (one of them).')
    admin.api('identity', 'PUT', assignment_path(project, role, user=user, group=group))
    return admin.done('Role granted.', _back())


@bp.route('/revoke', methods=['POST'])
@admin_only
def revoke():
    role = admin.field('role')
    user, group = admin.field('user'), admin.field('group')
    project, domain = admin.field('project'), admin.field('domain')
    if not role or bool(user) == bool(group) or bool(project) == bool(domain):
        admin.refuse('An assignment to revoke names a role, a user or a group, and a '
                     'project or a domain.')
    admin.api('identity', 'DELETE', assignment_path(project, role, user=user, group=group,
                                                    domain=domain))
    return admin.done('Role %s revoked.' % admin.field('label', role), _back())
