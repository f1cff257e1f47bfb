"""The admin pages: one module (one blueprint, one menu entry) per page,
each view guarded by ``admin_only`` so a member gets the 403 page.

What they share lives here: the blueprint of a page and the names of the
cloud's projects and hosts for the pages' selects and columns. Raw API
calls, form fields and a form's answer are dashboard/rest.py's, as for
every page.
"""

import shlex

import flask

from dashboard import rest


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


def project_names():
    """{project id: name} of every project (one identity call); empty when
    the identity service does not answer (the page still shows ids)."""
    return rest.names('identity', 'projects')[0]


def all_projects():
    body = rest.get('identity', '/projects')
    return sorted(body['projects'], key=lambda p: p['name'].lower())


def compute_hosts():
    """The hosts of nova-compute services, sorted, with their service."""
    body = rest.get('compute', '/os-services', binary='nova-compute')
    return sorted(body['services'], key=lambda s: s['host'])
