"""Flavors: all of them, public and private (is_public=None), with their
extra specs (shown at microversion 2.61); create (with properties), delete;
a flavor's page shows its extra specs (set and unset) and, for a private
flavor, the projects that may use it (add and remove)."""

import urllib.parse

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_flavors', '/admin/flavors')
ADMIN_NAV = [('admin_flavors.index', 'Flavors')]

NUMBERS = (('vcpus', 'vcpus'), ('ram', 'ram'), ('disk', 'disk'),
           ('ephemeral', 'OS-FLV-EXT-DATA:ephemeral'), ('swap', 'swap'))


def _path(flavor_id, *rest):
    return '/'.join(('/flavors', urllib.parse.quote(flavor_id, safe='')) + rest)


def _number(text):
    """A whole number as an int, else the text as typed (the API says what
    is wrong with it)."""
    return int(text) if text.isdigit() else text


def create_body(form):
    """POST /flavors body of the create form; properties as {key: value}."""
    flavor = {'name': form.get('name', '').strip()}
    for name, key in NUMBERS:
        value = form.get(name, '').strip()
        if value or name in ('vcpus', 'ram', 'disk'):
            flavor[key] = _number(value)
    flavor['os-flavor-access:is_public'] = not form.get('private')
    if form.get('id', '').strip():
        flavor['id'] = form['id'].strip()
    if form.get('description', '').strip():
        flavor['description'] = form['description'].strip()
    return {'flavor': flavor}, properties(form.getlist('property'))


def properties(lines):
    out = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition('=')
        if not sep or not key.strip():
            rest.refuse('A property is key=value; %r is not.' % line)
        out[key.strip()] = value.strip()
    return out


@bp.route('/')
@admin_only
def index():
    flavors = rest.get('compute', '/flavors/detail', is_public='None')['flavors']
    flavors.sort(key=lambda f: (f['vcpus'], f['ram'], f['disk'], f['name']))
    return flask.render_template('admin/flavors.html', flavors=flavors)


@bp.route('/', methods=['POST'])
@admin_only
def create():
    body, props = create_body(flask.request.form)
    flavor = rest.call('compute', 'POST', '/flavors', body)['flavor']
    if props:
        rest.call('compute', 'POST', _path(flavor['id'], 'os-extra_specs'),
                  {'extra_specs': props})
    return rest.done('Flavor %s created (id %s).' % (flavor['name'], flavor['id']),
                     flask.url_for('.detail', flavor_id=flavor['id']))


@bp.route('/<flavor_id>/delete', methods=['POST'])
@admin_only
def delete(flavor_id):
    rest.call('compute', 'DELETE', _path(flavor_id))
    return rest.done('Flavor %s deleted.' % rest.form('name', flavor_id),
                     flask.url_for('.index'))


@bp.route('/<flavor_id>/')
@admin_only
def detail(flavor_id):
    flavor = rest.get('compute', _path(flavor_id))['flavor']
    access, names = None, {}
    if not flavor.get('os-flavor-access:is_public', True):
        access = rest.get('compute', _path(flavor_id, 'os-flavor-access'))['flavor_access']
        names = admin.project_names()
    return flask.render_template('admin/flavor.html', flavor=flavor, access=access,
                                 project_names=names)


@bp.route('/<flavor_id>/specs', methods=['POST'])
@admin_only
def set_spec(flavor_id):
    key = rest.form('key')
    if not key:
        rest.refuse('Give the extra spec a key.')
    rest.call('compute', 'POST', _path(flavor_id, 'os-extra_specs'),
              {'extra_specs': {key: rest.form('value')}})
    return rest.done('Extra spec %s set.' % key, flask.url_for('.detail', flavor_id=flavor_id))


@bp.route('/<flavor_id>/specs/unset', methods=['POST'])
@admin_only
def unset_spec(flavor_id):
    key = rest.form('key')
    rest.call('compute', 'DELETE', _path(flavor_id, 'os-extra_specs',
                                         urllib.parse.quote(key, safe='')))
    return rest.done('Extra spec %s unset.' % key,
                     flask.url_for('.detail', flavor_id=flavor_id))


@bp.route('/<flavor_id>/access', methods=['POST'])
@admin_only
def access(flavor_id):
    project = rest.form('project')
    add = rest.form('op', 'add') == 'add'
    if not project:
        rest.refuse('Choose a project.')
    rest.call('compute', 'POST', _path(flavor_id, 'action'),
              {'addTenantAccess' if add else 'removeTenantAccess': {'tenant': project}})
    name = admin.project_names().get(project, project)
    return rest.done('Project %s %s flavor %s.' % (name, 'may now use' if add else
                                                   'may no longer use', flavor_id),
                     flask.url_for('.detail', flavor_id=flavor_id))
