"""The admin pages: one module (one blueprint, one menu entry) per page,
each view guarded by ``admin_only`` so a member gets the 403 page.

What they share lives here: raw calls to the public APIs that raise
``cloud.APIError`` with the API's own message (openstacksdk's proxies do not
raise on a 4xx by themselves), the answer to a form (flash and redirect; for
htmx, a redirect header, so a refused form keeps what was typed and shows the
API's answer in the page's alert area), and the names of the cloud's
projects, users and hosts for the pages' selects and columns.
"""

import shlex

import flask
import openstack.exceptions

from dashboard import cloud

SERVICES = {'compute': 'compute', 'identity': 'identity', 'network': 'network',
            'volume': 'volumev3'}


def modules():
    """The admin page modules, in the order of the admin menu."""
    from dashboard.views.admin import aggregates
    from dashboard.views.admin import flavors
    from dashboard.views.admin import groups
    from dashboard.views.admin import hypervisors
    from dashboard.views.admin import instances
    from dashboard.views.admin import migrations
    from dashboard.views.admin import projects
    from dashboard.views.admin import quotas
    from dashboard.views.admin import roles
    from dashboard.views.admin import services
    from dashboard.views.admin import users
    return (hypervisors, services, aggregates, flavors, instances, migrations, projects,
            users, groups, roles, quotas)


def shquote(value):
    return shlex.quote(str(value))


def blueprint(name, url_prefix):
    """An admin page's blueprint; its templates get the ``shquote`` filter
    (a name quoted for the shell, inside a form's data-cli)."""
    bp = flask.Blueprint(name, __name__, url_prefix=url_prefix)
    bp.add_app_template_filter(shquote, 'shquote')
    return bp


def _proxy(conn, service):
    return {'compute': conn.compute, 'identity': conn.identity, 'network': conn.network,
            'volume': conn.block_storage}[service]


def api(service, method, path, body=None, params=None):
    """``method path`` on ``service`` (compute at our microversion) as the
    signed-in user; the JSON answer (None when there is no body), or
    APIError with the API's message, status and request id."""
    conn = cloud.conn()
    kwargs = {'params': params or None}
    if body is not None:
        kwargs['json'] = body
    if service == 'compute':
        kwargs['microversion'] = cloud.COMPUTE_MICROVERSION
    with cloud.translate(SERVICES[service], signed_in=True):
        resp = _proxy(conn, service).request(path, method, **kwargs)
        openstack.exceptions.raise_from_response(resp)
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def attempt(service, method, path, params=None):
    """(answer, None) or (None, APIError): for a part of a page."""
    try:
        return api(service, method, path, params=params), None
    except cloud.APIError as err:
        return None, err


def get(service, path, **params):
    return api(service, 'GET', path, params=params)


def field(name, default=''):
    return (flask.request.form.get(name) or default).strip()


def refuse(message):
    """Input the dashboard itself refuses before asking an API: a 400 that
    says why (an alert in the page for htmx, the error page otherwise)."""
    flask.abort(400, message)


def done(message, url):
    """A form that worked: the message on the next page, which is ``url``."""
    flask.flash(message, 'success')
    if flask.request.headers.get('HX-Request') == 'true':
        resp = flask.make_response('', 200)
        resp.headers['HX-Redirect'] = url
        return resp
    return flask.redirect(url, code=303)


def project_names():
    """{project id: name} of every project (one identity call); empty when
    the identity service does not answer (the page still shows ids)."""
    body, _err = attempt('identity', 'GET', '/projects')
    return {p['id']: p['name'] for p in (body or {}).get('projects', [])}


def all_projects():
    body = get('identity', '/projects')
    return sorted(body['projects'], key=lambda p: p['name'].lower())


def compute_hosts():
    """The hosts of nova-compute services, sorted, with their service."""
    body = get('compute', '/os-services', binary='nova-compute')
    return sorted(body['services'], key=lambda s: s['host'])
