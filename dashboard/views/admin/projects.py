"""Projects: list, create, edit (name, description, enabled), enable or
disable in one click, delete; a project's page shows its role assignments
and links to its quotas."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_projects', '/admin/projects')
ADMIN_NAV = [('admin_projects.index', 'Projects')]


def domains():
    body, _err = rest.attempt('identity', 'GET', '/domains')
    return sorted((body or {}).get('domains', []), key=lambda d: d['name'].lower()) or \
        [{'id': 'default', 'name': 'Default'}]


def form_values(form, create):
    """The project fields of a create or edit form."""
    values = {'name': form.get('name', '').strip(),
              'description': form.get('description', '').strip()}
    if create:
        values['domain_id'] = form.get('domain_id') or 'default'
        values['enabled'] = not form.get('disable')
    else:
        values['enabled'] = form.get('enabled') == '--enable'
    return values


@bp.route('/')
@admin_only
def index():
    projects = admin.all_projects()
    doms = domains()
    return flask.render_template('admin/projects.html', projects=projects, domains=doms,
                                 domain_names={d['id']: d['name'] for d in doms})


@bp.route('/', methods=['POST'])
@admin_only
def create():
    project = rest.call('identity', 'POST', '/projects',
                        {'project': form_values(flask.request.form, True)})['project']
    return rest.done('Project %s created.' % project['name'],
                     flask.url_for('.detail', project_id=project['id']))


@bp.route('/<project_id>/')
@admin_only
def detail(project_id):
    project = rest.get('identity', '/projects/%s' % project_id)['project']
    assignments, err = rest.attempt('identity', 'GET', '/role_assignments', **{
        'scope.project.id': project_id, 'include_names': 'True'})
    return flask.render_template(
        'admin/project.html', project=project, err=err,
        assignments=(assignments or {}).get('role_assignments', []))


@bp.route('/<project_id>/', methods=['POST'])
@admin_only
def update(project_id):
    project = rest.call('identity', 'PATCH', '/projects/%s' % project_id,
                        {'project': form_values(flask.request.form, False)})['project']
    return rest.done('Project %s saved.' % project['name'],
                     flask.url_for('.detail', project_id=project_id))


@bp.route('/<project_id>/enabled', methods=['POST'])
@admin_only
def set_enabled(project_id):
    enabled = rest.form('enabled') == 'true'
    project = rest.call('identity', 'PATCH', '/projects/%s' % project_id,
                        {'project': {'enabled': enabled}})['project']
    return rest.done('Project %s %s.' % (project['name'], 'enabled' if enabled else
                                         'disabled'), flask.url_for('.index'))


@bp.route('/<project_id>/delete', methods=['POST'])
@admin_only
def delete(project_id):
    rest.call('identity', 'DELETE', '/projects/%s' % project_id)
    return rest.done('Project %s deleted.' % rest.form('name', project_id),
                     flask.url_for('.index'))
