"""Role assignments: who holds which role where (filters by project, user,
group and role, in the URL), with names; grant a role to a user or a group
on a project, revoke one."""

import flask

from dashboard import rest
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
    assignments = rest.get('identity', '/role_assignments', **params)['role_assignments']
    assignments.sort(key=lambda a: (
        ((a.get('scope') or {}).get('project') or (a.get('scope') or {}).get('domain')
         or {}).get('name') or '',
        (a.get('user') or a.get('group') or {}).get('name') or '', a['role'].get('name') or ''))
    return flask.render_template(
        'admin/roles.html', assignments=assignments,
        roles=_sorted(rest.get('identity', '/roles'), 'roles'),
        users=_sorted(rest.get('identity', '/users'), 'users'),
        groups=_sorted(rest.get('identity', '/groups'), 'groups'),
        projects=admin.all_projects(), filters={k: args.get(k, '') for k in FILTERS})


def _back():
    back = flask.request.form.get('next') or flask.url_for('.index')
    return back if back.startswith('/') and not back.startswith('//') else \
        flask.url_for('.index')


@bp.route('/grant', methods=['POST'])
@admin_only
def grant():
    role, project = rest.form('role'), rest.form('project')
    user, group = rest.form('user'), rest.form('group')
    if not role or not project:
        rest.refuse('Choose a role and a project.')
    if bool(user) == bool(group):
        rest.refuse('Choose either a user or a group (one of them).')
    rest.call('identity', 'PUT', assignment_path(project, role, user=user, group=group))
    return rest.done('Role granted.', _back())


@bp.route('/revoke', methods=['POST'])
@admin_only
def revoke():
    role = rest.form('role')
    user, group = rest.form('user'), rest.form('group')
    project, domain = rest.form('project'), rest.form('domain')
    if not role or bool(user) == bool(group) or bool(project) == bool(domain):
        rest.refuse('An assignment to revoke names a role, a user or a group, and a '
                    'project or a domain.')
    rest.call('identity', 'DELETE', assignment_path(project, role, user=user, group=group,
                                                    domain=domain))
    return rest.done('Role %s revoked.' % rest.form('label', role), _back())
