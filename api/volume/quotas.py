"""limits, os-quota-sets, os-availability-zone and os-services of the volume API."""

import flask

from api import http
from api import microversion
from api.volume import base
from blockstore import quota as volume_quota
from blockstore import types as volume_types
from common import exception
from common import servicegroup

_PER_TYPE = ('volumes', 'gigabytes', 'snapshots')


def limits(project_id):
    base.check_project(project_id)
    ctx = http.context()
    lim, used = volume_quota.limits(ctx.project_id), volume_quota.usage(ctx.project_id)
    return http.reply({'limits': {'rate': [], 'absolute': {
        'maxTotalVolumes': lim['volumes'], 'maxTotalSnapshots': lim['snapshots'],
        'maxTotalVolumeGigabytes': lim['gigabytes'],
        'maxTotalBackups': lim['backups'], 'maxTotalBackupGigabytes': lim['backup_gigabytes'],
        'totalVolumesUsed': used['volumes'], 'totalGigabytesUsed': used['gigabytes'],
        'totalSnapshotsUsed': used['snapshots'], 'totalBackupsUsed': 0,
        'totalBackupGigabytesUsed': 0}}})


def _quota_set(target, values, used=None):
    out = {'id': target}
    for key in volume_quota.QUOTA_RESOURCES:
        out[key] = values[key]
    # Per-type limits (Cinder shows <resource>_<type name>); none are set here.
    for vt in volume_types.list_types(None):
        for key in _PER_TYPE:
            out['%s_%s' % (key, vt['name'])] = -1
    if used is not None:
        for key in list(out):
            if key == 'id':
                continue
            # Cinder's default quota driver shows no 'allocated' (only its
            # nested-projects driver did).
            out[key] = {'limit': out[key], 'in_use': used.get(key, 0), 'reserved': 0}
    return out


def _check_read(target):
    ctx = http.context()
    if target != ctx.project_id and not base.is_admin(ctx):
        raise exception.Forbidden("Policy doesn't allow volume_extension:quotas:show to be "
                                  "performed.")
    base.authorize('volume_extension:quotas:show', target)


def show_quota_set(project_id, target):
    base.check_project(project_id)
    _check_read(target)
    used = volume_quota.usage(target) if http.bool_arg('usage', False) else None
    return http.reply({'quota_set': _quota_set(target, volume_quota.limits(target), used)})


def show_defaults(project_id, target):
    base.check_project(project_id)
    _check_read(target)
    return http.reply({'quota_set': _quota_set(target, volume_quota.quota_defaults())})


def update_quota_set(project_id, target):
    base.check_project(project_id)
    base.authorize('volume_extension:quotas:update', target)
    body = http.json_body().get('quota_set')
    if not isinstance(body, dict):
        raise exception.BadRequest("Invalid input received: Missing required element "
                                   "'quota_set' in request body.")
    per_type = {'%s_%s' % (k, vt['name']) for vt in volume_types.list_types(None)
                for k in _PER_TYPE}
    bad = sorted(k for k in body if k not in volume_quota.QUOTA_RESOURCES and k not in per_type
                 and k not in ('id', 'tenant_id'))
    if bad:
        raise exception.BadRequest('Bad key(s) in quota set: %s' % ','.join(bad))
    values = {}
    for key, raw in body.items():
        if key not in volume_quota.QUOTA_RESOURCES:
            continue
        try:
            val = int(raw)
            if isinstance(raw, bool) or val < -1:
                raise ValueError
        except (TypeError, ValueError):
            raise exception.BadRequest("Invalid input received: Quota %s must be an integer "
                                       "of -1 or more, not '%s'." % (key, raw)) from None
        values[key] = val
    used = volume_quota.usage(target)
    for key, val in values.items():
        if 0 <= val < used.get(key, 0):
            raise exception.BadRequest(
                'Invalid input received: Quota %s limit must be equal or greater than '
                'existing resources. Current usage is %s and the requested limit is %s.'
                % (key, used[key], val))
    volume_quota.set_limits(target, values)
    out = _quota_set(target, volume_quota.limits(target))
    return http.reply({'quota_set': {k: v for k, v in out.items() if k != 'id'}})


def delete_quota_set(project_id, target):
    base.check_project(project_id)
    base.authorize('volume_extension:quotas:delete', target)
    volume_quota.reset_limits(target)
    return http.reply(status=200)


def availability_zones(project_id):
    base.check_project(project_id)
    return http.reply({'availabilityZoneInfo': [{'zoneName': 'nova',
                                                 'zoneState': {'available': True}}]})


def _fmt(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.%f') if dt else None


def list_services(project_id):
    base.check_project(project_id)
    base.authorize('volume_extension:services:index')
    args = flask.request.args
    binary = args.get('binary')
    recs = [r for r in servicegroup.list_services(host=args.get('host'))
            if r.binary in ('cinder-volume', 'cinder-scheduler') and
            (binary is None or r.binary == binary)]
    return http.reply({'services': [_service(r) for r in recs]})


def _service(rec):
    """One service as Cinder's os-services draws it: the cluster from 3.7, the
    backend state of a volume service from 3.49, replication state only for
    volume services."""
    up = servicegroup.is_up(rec)
    out = {'binary': rec.binary, 'host': rec.host, 'zone': 'nova',
           'status': 'disabled' if rec.disabled else 'enabled',
           'state': 'up' if up else 'down',
           'updated_at': _fmt(rec.updated_at), 'disabled_reason': rec.disabled_reason}
    if microversion.at_least('3.7'):
        out['cluster'] = None
    if rec.binary == 'cinder-volume':
        out.update(replication_status='disabled', active_backend_id=None, frozen=False)
        if microversion.at_least('3.49'):
            out['backend_state'] = 'up' if up else 'down'
    return out


P = '/v3/<project_id>'
ROUTES = [
    (P + '/limits', {'GET': limits}),
    (P + '/os-quota-sets/<target>', {'GET': show_quota_set, 'PUT': update_quota_set,
                                     'DELETE': delete_quota_set}),
    (P + '/os-quota-sets/<target>/defaults', {'GET': show_defaults}),
    (P + '/os-availability-zone', {'GET': availability_zones}),
    (P + '/os-services', {'GET': list_services}),
]
