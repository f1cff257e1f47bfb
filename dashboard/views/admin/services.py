"""Compute services: every worker with its host, zone, status (enabled or
disabled, with the reason) and state (up or down, forced down); enable,
disable with a reason, force down and unset it, through PUT
/os-services/{id} (microversion 2.53 and later: the service's uuid)."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_services', '/admin/services')
ADMIN_NAV = [('admin_services.index', 'Compute services')]

ACTIONS = ('enable', 'disable', 'down', 'up')


def body_for(action, reason):
    """The PUT body of an action; what ``openstack compute service set``
    flag it is."""
    if action == 'disable':
        body = {'status': 'disabled'}
        if reason:
            body['disabled_reason'] = reason
        return body
    if action == 'enable':
        return {'status': 'enabled'}
    return {'forced_down': action == 'down'}


def cli_for(action, host, binary, reason=''):
    flags = {'enable': ['--enable'], 'disable': ['--disable'], 'down': ['--down'],
             'up': ['--up']}[action]
    if action == 'disable' and reason:
        flags += ['--disable-reason', reason]
    from dashboard.views import cli_command
    return cli_command('compute', 'service', 'set', *flags, host, binary)


@bp.route('/')
@admin_only
def index():
    services = rest.get('compute', '/os-services')['services']
    services.sort(key=lambda s: (s['binary'] != 'nova-compute', s['binary'], s['host']))
    return flask.render_template('admin/services.html', services=services, cli_for=cli_for)


@bp.route('/<service_id>', methods=['POST'])
@admin_only
def update(service_id):
    action = rest.form('action')
    if action not in ACTIONS:
        rest.refuse('Unknown action %r: one of %s.' % (action, ', '.join(ACTIONS)))
    reason = rest.form('reason')
    svc = rest.call('compute', 'PUT', '/os-services/%s' % service_id,
                    body_for(action, reason))['service']
    what = {'enable': 'enabled', 'disable': 'disabled', 'down': 'forced down',
            'up': 'no longer forced down'}[action]
    return rest.done('%s on %s is %s.' % (svc['binary'], svc['host'], what),
                     flask.url_for('.index'))
