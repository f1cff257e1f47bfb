"""quotas: a project's network limits (any project member reads its own;
admins read any and change them), with use (details)."""

from api import http
from api.network import attrs
from network import exception as ne
from network import lookup
from network import quota as netquota

_FLAGS = ('force', 'check_limit')


def _project(project_id):
    return project_id[:-5] if project_id.endswith('.json') else project_id


def _check_read(project_id):
    ctx = http.context()
    if project_id != ctx.project_id and not lookup.is_admin(ctx):
        raise ne.NotAuthorized()
    attrs.authorize('get_quota', project_id)


def list_quotas():
    attrs.authorize('get_quota:other_project', None)
    out = []
    for project_id in netquota.projects_with_limits():
        entry = netquota.limits(project_id)
        entry.update(project_id=project_id, tenant_id=project_id)
        out.append(entry)
    return http.reply({'quotas': out})


def show_quota(project_id):
    project_id = _project(project_id)
    _check_read(project_id)
    return http.reply({'quota': netquota.limits(project_id)})


def show_quota_details(project_id):
    project_id = _project(project_id)
    _check_read(project_id)
    lim, used = netquota.limits(project_id), netquota.usage(project_id)
    return http.reply({'quota': {r: {'limit': lim[r], 'used': used.get(r, 0), 'reserved': 0}
                                 for r in netquota.RESOURCES}})


def show_quota_defaults(project_id):
    return http.reply({'quota': netquota.defaults()})


def update_quota(project_id):
    project_id = _project(project_id)
    attrs.authorize('update_quota', project_id)
    body = http.json_body().get('quota')
    if not isinstance(body, dict):
        raise ne.HTTPBadRequest(msg="Unable to find 'quota' in request body")
    unknown = sorted(k for k in body if k not in netquota.RESOURCES + _FLAGS)
    if unknown:
        raise ne.HTTPBadRequest(msg="Unrecognized attribute(s) '%s'" % ', '.join(unknown))
    values = {r: attrs.integer(-1, 2 ** 31 - 1)(r, v) for r, v in body.items()
              if r in netquota.RESOURCES}
    # check_limit (the CLI's default): no limit below what is in use; force: anything.
    if attrs.boolean('check_limit', body.get('check_limit', False)) and \
            not attrs.boolean('force', body.get('force', False)):
        used = netquota.usage(project_id)
        unders = sorted(r for r, v in values.items() if 0 <= v < used.get(r, 0))
        if unders:
            raise ne.InvalidQuotaValue(unders=unders)
    netquota.set_limits(project_id, values)
    return http.reply({'quota': netquota.limits(project_id)})


def delete_quota(project_id):
    project_id = _project(project_id)
    attrs.authorize('delete_quota', project_id)
    netquota.reset(project_id)
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/quotas', {'GET': list_quotas}),
    ('/v2.0/quotas/<project_id>', {'GET': show_quota, 'PUT': update_quota,
                                   'DELETE': delete_quota}),
    ('/v2.0/quotas/<project_id>/details', {'GET': show_quota_details}),
    ('/v2.0/quotas/<project_id>/details.json', {'GET': show_quota_details}),
    ('/v2.0/quotas/<project_id>/default', {'GET': show_quota_defaults}),
]
