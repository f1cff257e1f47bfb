"""Groups: list, create, delete; a group's page lists its users (add and
remove) and its role assignments."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only
from dashboard.views.admin import projects as admin_projects

bp = admin.blueprint('admin_groups', '/admin/groups')
ADMIN_NAV = [('admin_groups.index', 'Groups')]


@bp.route('/')
@admin_only
def index():
    groups = sorted(rest.get('identity', '/groups')['groups'],
                    key=lambda g: g['name'].lower())
    doms = admin_projects.domains()
    return flask.render_template('admin/groups.html', groups=groups, domains=doms,
                                 domain_names={d['id']: d['name'] for d in doms})


@bp.route('/', methods=['POST'])
@admin_only
def create():
    group = {'name': rest.form('name'), 'domain_id': rest.form('domain_id', 'default')}
    if rest.form('description'):
        group['description'] = rest.form('description')
    made = rest.call('identity', 'POST', '/groups', {'group': group})['group']
    return rest.done('Group %s created.' % made['name'],
                     flask.url_for('.detail', group_id=made['id']))


@bp.route('/<group_id>/')
@admin_only
def detail(group_id):
    group = rest.get('identity', '/groups/%s' % group_id)['group']
    members = rest.get('identity', '/groups/%s/users' % group_id)['users']
    users, users_err = rest.attempt('identity', 'GET', '/users')
    assignments, err = rest.attempt('identity', 'GET', '/role_assignments', **{
        'group.id': group_id, 'include_names': 'True'})
    inside = {u['id'] for u in members}
    return flask.render_template(
        'admin/group.html', group=group, members=sorted(members, key=lambda u: u['name']),
        others=sorted((u for u in (users or {}).get('users', []) if u['id'] not in inside),
                      key=lambda u: u['name'].lower()), users_err=users_err,
        assignments=(assignments or {}).get('role_assignments', []), err=err)


@bp.route('/<group_id>/members', methods=['POST'])
@admin_only
def members(group_id):
    user = rest.form('user')
    if not user:
        rest.refuse('Choose a user.')
    add = rest.form('op', 'add') == 'add'
    rest.call('identity', 'PUT' if add else 'DELETE',
              '/groups/%s/users/%s' % (group_id, user))
    name = rest.form('user_name')
    if not name:
        found, _err = rest.attempt('identity', 'GET', '/users/%s' % user)
        name = (found or {}).get('user', {}).get('name', user)
    return rest.done('User %s %s the group.' % (name, 'added to' if add else 'removed from'),
                     flask.url_for('.detail', group_id=group_id))


@bp.route('/<group_id>/delete', methods=['POST'])
@admin_only
def delete(group_id):
    rest.call('identity', 'DELETE', '/groups/%s' % group_id)
    return rest.done('Group %s deleted.' % rest.form('name', group_id),
                     flask.url_for('.index'))
