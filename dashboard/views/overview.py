"""Overview: the project's quota usage against its limits, as bars, for
compute, volume and network; each service's part fails on its own."""

import flask

from dashboard import cloud
from dashboard import rest
from dashboard.views import signed_in

bp = flask.Blueprint('overview', __name__)
NAV = [('overview.index', 'Overview')]

COMPUTE = (('Instances', 'totalInstancesUsed', 'maxTotalInstances', ''),
           ('vCPUs', 'totalCoresUsed', 'maxTotalCores', ''),
           ('RAM', 'totalRAMUsed', 'maxTotalRAMSize', 'MiB'),
           ('Server groups', 'totalServerGroupsUsed', 'maxServerGroups', ''))
VOLUME = (('Volumes', 'volumes', ''), ('Volume snapshots', 'snapshots', ''),
          ('Volume storage', 'gigabytes', 'GiB'), ('Backups', 'backups', ''))
NETWORK = (('Networks', 'network', ''), ('Subnets', 'subnet', ''), ('Ports', 'port', ''),
           ('Routers', 'router', ''), ('Floating IPs', 'floatingip', ''),
           ('Security groups', 'security_group', ''),
           ('Security group rules', 'security_group_rule', ''))


def _bar(label, used, limit, unit):
    used = used or 0
    unlimited = limit is None or limit < 0
    pct = 0 if unlimited or not limit else min(100, round(100.0 * used / limit))
    return {'label': label, 'used': used, 'limit': None if unlimited else limit, 'unit': unit,
            'pct': pct, 'level': 'full' if pct >= 90 else 'high' if pct >= 70 else 'ok'}


def compute_usage(conn):
    absolute = rest.get('compute', '/limits', conn=conn)['limits']['absolute']
    return [_bar(label, absolute.get(used), absolute.get(limit), unit)
            for label, used, limit, unit in COMPUTE]


def volume_usage(conn, project_id):
    qs = rest.get('volumev3', '/os-quota-sets/%s' % project_id, conn=conn,
                  usage='True')['quota_set']
    return [_bar(label, qs.get(key, {}).get('in_use'), qs.get(key, {}).get('limit'), unit)
            for label, key, unit in VOLUME if isinstance(qs.get(key), dict)]


def network_usage(conn, project_id):
    quota = rest.get('network', '/quotas/%s/details.json' % project_id, conn=conn)['quota']
    return [_bar(label, quota[key]['used'], quota[key]['limit'], unit)
            for label, key, unit in NETWORK if key in quota]


def usage(conn, project_id):
    """{'compute': (bars, error), 'volume': ..., 'network': ...}"""
    return {'compute': cloud.attempt('compute', compute_usage, conn),
            'volume': cloud.attempt('volumev3', volume_usage, conn, project_id),
            'network': cloud.attempt('network', network_usage, conn, project_id)}


@bp.route('/')
@signed_in
def index():
    me = flask.session['me']
    return flask.render_template('overview.html', usage=usage(cloud.conn(), me['project_id']))
