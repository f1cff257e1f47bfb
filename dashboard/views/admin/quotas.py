"""Per-project quotas: a project's compute, volume and network limits with
what it uses, each service in its own form (and failing on its own); a
limit of -1 is unlimited. The APIs check a new limit against the use."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_quotas', '/admin/quotas')
ADMIN_NAV = [('admin_quotas.index', 'Quotas')]

# service -> ((API key, label, `openstack quota set` flag), ...)
QUOTAS = {
    'compute': (('instances', 'Instances', 'instances'), ('cores', 'vCPUs', 'cores'),
                ('ram', 'RAM (MiB)', 'ram'), ('key_pairs', 'Key pairs', 'key-pairs'),
                ('server_groups', 'Server groups', 'server-groups'),
                ('server_group_members', 'Server group members', 'server-group-members'),
                ('metadata_items', 'Metadata items', 'properties')),
    'volume': (('volumes', 'Volumes', 'volumes'), ('snapshots', 'Snapshots', 'snapshots'),
               ('gigabytes', 'Storage (GiB)', 'gigabytes'),
               ('per_volume_gigabytes', 'Per volume (GiB)', 'per-volume-gigabytes'),
               ('backups', 'Backups', 'backups'),
               ('backup_gigabytes', 'Backup storage (GiB)', 'backup-gigabytes'),
               ('groups', 'Volume groups', 'groups')),
    'network': (('network', 'Networks', 'networks'), ('subnet', 'Subnets', 'subnets'),
                ('port', 'Ports', 'ports'), ('router', 'Routers', 'routers'),
                ('floatingip', 'Floating IPs', 'floating-ips'),
                ('security_group', 'Security groups', 'secgroups'),
                ('security_group_rule', 'Security group rules', 'secgroup-rules')),
}
TITLES = {'compute': 'Compute', 'volume': 'Volume', 'network': 'Network'}
# a page's service -> its catalog type, as dashboard/rest.py takes it
CATALOG = {'compute': 'compute', 'volume': 'volumev3', 'network': 'network'}


def _paths(project_id):
    return {'compute': '/os-quota-sets/%s/detail' % project_id,
            'volume': '/os-quota-sets/%s?usage=True' % project_id,
            'network': '/quotas/%s/details.json' % project_id}


def rows(service, body):
    """[(key, label, flag, limit, used)] from a service's detailed answer."""
    detail = body.get('quota_set') or body.get('quota') or {}
    out = []
    for key, label, flag in QUOTAS[service]:
        item = detail.get(key)
        if not isinstance(item, dict):
            continue
        out.append({'key': key, 'label': label, 'flag': flag, 'limit': item.get('limit'),
                    'used': item.get('in_use', item.get('used', 0))})
    return out


def parse_limits(service, form):
    """{key: limit} of the fields that were given: whole numbers, -1 for
    no limit; anything else is refused with the field named."""
    out = {}
    for key, label, _flag in QUOTAS[service]:
        raw = form.get(key, '').strip()
        if raw == '':
            continue
        try:
            out[key] = int(raw)
        except ValueError:
            rest.refuse('%s: %r is not a whole number (-1 for no limit).' % (label, raw))
    if not out:
        rest.refuse('Nothing to change.')
    return out


def update_body(service, limits):
    if service in ('compute', 'volume'):
        return {'quota_set': limits}
    # as the CLI: no network limit below what is in use
    return {'quota': dict(limits, check_limit=True)}


def update_path(service, project_id):
    return {'compute': '/os-quota-sets/%s', 'volume': '/os-quota-sets/%s',
            'network': '/quotas/%s'}[service] % project_id


@bp.route('/')
@admin_only
def index():
    projects = admin.all_projects()
    wanted = flask.request.args.get('project') or flask.session['me']['project_id']
    project = next((p for p in projects if wanted in (p['id'], p['name'])), None)
    parts = {}
    if project:
        for service, path in _paths(project['id']).items():
            body, err = rest.attempt(CATALOG[service], 'GET', path)
            parts[service] = (rows(service, body) if body else [], err)
    return flask.render_template('admin/quotas.html', projects=projects, project=project,
                                 parts=parts, titles=TITLES, wanted=wanted,
                                 services=('compute', 'volume', 'network'))


@bp.route('/<project_id>/<service>', methods=['POST'])
@admin_only
def update(project_id, service):
    if service not in QUOTAS:
        flask.abort(404)
    limits = parse_limits(service, flask.request.form)
    rest.call(CATALOG[service], 'PUT', update_path(service, project_id),
              update_body(service, limits))
    name = rest.form('project_name', project_id)
    return rest.done('%s quotas of %s saved.' % (TITLES[service], name),
                     flask.url_for('.index', project=project_id))


def cli_template(service, project):
    """The data-cli template of a service's form: a flag for each field
    that has a value."""
    opts = ' '.join('[--%s {%s}]' % (flag, key) for key, _l, flag in QUOTAS[service])
    return 'openstack quota set %s %s' % (opts, admin.shquote(project))


bp.add_app_template_global(cli_template, 'quota_cli')
