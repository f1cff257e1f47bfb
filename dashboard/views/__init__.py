"""The dashboard's pages, one blueprint per module, and what they share:
sign-in and admin guards, the equivalent ``openstack`` command of a form,
and the list paging read from the URL."""

import functools
import shlex

import flask

from dashboard import cloud


def signed_in(view):
    """The view needs a token; without one, the login page (and back)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not flask.session.get('scoped'):
            raise cloud.NotSignedIn()
        return view(*args, **kwargs)
    return wrapper


def is_admin():
    return 'admin' in (flask.session.get('me') or {}).get('roles', ())


def admin_only(view):
    """An admin page: a member gets a 403 page that says why."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not flask.session.get('scoped'):
            raise cloud.NotSignedIn()
        if not is_admin():
            flask.abort(403, 'This page is for cloud administrators: your role in project '
                             '%s does not include admin.'
                        % (flask.session.get('me') or {}).get('project_name', '?'))
        return view(*args, **kwargs)
    return wrapper


def cli_command(*words, **options):
    """``openstack WORDS --opt value ...`` as a shell-safe string, for the
    'equivalent command' shown beside a form (a None or False option is
    left out; True is a bare flag; a list repeats the option)."""
    out = ['openstack'] + [str(w) for w in words if w is not None and w != '']
    for name, value in options.items():
        flag = '--' + name.rstrip('_').replace('_', '-')
        if value is None or value is False or value == '':
            continue
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                out += [flag, str(item)]
        else:
            out += [flag, str(value)]
    return ' '.join(shlex.quote(w) if w != 'openstack' else w for w in out)


def paging():
    """(limit, marker) from the URL: marker paging, as the APIs do it."""
    from common.conf import CONF
    try:
        limit = max(1, min(int(flask.request.args.get('limit', CONF.dashboard.page_size)),
                           1000))
    except ValueError:
        limit = CONF.dashboard.page_size
    return limit, flask.request.args.get('marker') or None


def page_url(**changes):
    """This page's URL with some query arguments changed (None drops one):
    filters stay in the URL when paging."""
    args = flask.request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return flask.url_for(flask.request.endpoint, **(flask.request.view_args or {}), **args)


def has_endpoint(name):
    return name in flask.current_app.view_functions


def modules():
    """Every page module, in the order of the navigation."""
    from dashboard.views import admin
    from dashboard.views import auth
    from dashboard.views import events
    from dashboard.views import floating_ips
    from dashboard.views import images
    from dashboard.views import instance_actions
    from dashboard.views import instance_detail
    from dashboard.views import instance_forms
    from dashboard.views import instances
    from dashboard.views import keypairs
    from dashboard.views import launch
    from dashboard.views import networks
    from dashboard.views import overview
    from dashboard.views import ports
    from dashboard.views import routers
    from dashboard.views import security_groups
    from dashboard.views import subnets
    from dashboard.views import volume_snapshots
    from dashboard.views import volumes
    return (auth, overview, instances, instance_detail, instance_actions, instance_forms,
            launch, images, keypairs, volumes, volume_snapshots, networks, subnets, ports,
            routers, floating_ips, security_groups, events) + admin.modules()


def register(app):
    nav = {'project': [], 'admin': []}
    for mod in modules():
        app.register_blueprint(mod.bp)
        nav['project'].extend(getattr(mod, 'NAV', ()))
        nav['admin'].extend(getattr(mod, 'ADMIN_NAV', ()))
    app.jinja_env.globals.update(nav=nav, page_url=page_url, has_endpoint=has_endpoint,
                                 cli=cli_command)
