"""Users: list, create (password, e-mail, default project, enabled), edit
(a new password only when asked for), delete; a user's page shows the
groups the user is in and the user's role assignments."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only
from dashboard.views.admin import projects as admin_projects

bp = admin.blueprint('admin_users', '/admin/users')
ADMIN_NAV = [('admin_users.index', 'Users')]


def form_values(form, create):
    values = {'name': form.get('name', '').strip(),
              'email': form.get('email', '').strip() or None,
              'description': form.get('description', '').strip() or None,
              'default_project_id': form.get('default_project_id') or None}
    if create:
        values['domain_id'] = form.get('domain_id') or 'default'
        values['enabled'] = not form.get('disable')
        values['password'] = form.get('password', '')
        if not values['password']:
            rest.refuse('Give the new user a password.')
        for key in ('email', 'description', 'default_project_id'):
            if values[key] is None:
                del values[key]
    else:
        values['enabled'] = form.get('enabled') == '--enable'
        if form.get('set_password'):
            if not form.get('password'):
                rest.refuse('Type the new password, or leave "Change the password" '
                            'unticked.')
            values['password'] = form['password']
    return values


@bp.route('/')
@admin_only
def index():
    users = sorted(rest.get('identity', '/users')['users'], key=lambda u: u['name'].lower())
    projects = admin.all_projects()
    doms = admin_projects.domains()
    return flask.render_template('admin/users.html', users=users, projects=projects,
                                 project_names={p['id']: p['name'] for p in projects},
                                 domains=doms,
                                 domain_names={d['id']: d['name'] for d in doms})


@bp.route('/', methods=['POST'])
@admin_only
def create():
    user = rest.call('identity', 'POST', '/users',
                     {'user': form_values(flask.request.form, True)})['user']
    return rest.done('User %s created.' % user['name'],
                     flask.url_for('.detail', user_id=user['id']))


@bp.route('/<user_id>/')
@admin_only
def detail(user_id):
    user = rest.get('identity', '/users/%s' % user_id)['user']
    groups, groups_err = rest.attempt('identity', 'GET', '/users/%s/groups' % user_id)
    assignments, err = rest.attempt('identity', 'GET', '/role_assignments', **{
        'user.id': user_id, 'include_names': 'True'})
    return flask.render_template(
        'admin/user.html', user=user, projects=admin.all_projects(),
        groups=(groups or {}).get('groups', []), groups_err=groups_err,
        assignments=(assignments or {}).get('role_assignments', []), err=err)


@bp.route('/<user_id>/', methods=['POST'])
@admin_only
def update(user_id):
    user = rest.call('identity', 'PATCH', '/users/%s' % user_id,
                     {'user': form_values(flask.request.form, False)})['user']
    return rest.done('User %s saved.' % user['name'],
                     flask.url_for('.detail', user_id=user_id))


@bp.route('/<user_id>/delete', methods=['POST'])
@admin_only
def delete(user_id):
    rest.call('identity', 'DELETE', '/users/%s' % user_id)
    return rest.done('User %s deleted.' % rest.form('name', user_id),
                     flask.url_for('.index'))
