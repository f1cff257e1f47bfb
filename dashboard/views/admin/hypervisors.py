"""Hypervisors: each compute host's vCPUs, RAM and disk, used against
total as bars, its running servers, and its service's state; the cloud's
totals on top."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_hypervisors', '/admin/hypervisors')
ADMIN_NAV = [('admin_hypervisors.index', 'Hypervisors')]

RESOURCES = (('vCPUs', 'vcpus_used', 'vcpus', ''),
             ('RAM', 'memory_mb_used', 'memory_mb', 'MiB'),
             ('Disk', 'local_gb_used', 'local_gb', 'GiB'))


def bar(label, used, total, unit=''):
    used, total = used or 0, total or 0
    pct = min(100, round(100.0 * used / total)) if total else 0
    return {'label': label, 'used': used, 'total': total, 'unit': unit, 'pct': pct,
            'level': 'full' if pct >= 90 else 'high' if pct >= 70 else 'ok'}


def usage_bars(hyp):
    return [bar(label, hyp.get(used), hyp.get(total), unit)
            for label, used, total, unit in RESOURCES]


def totals(hypervisors):
    sums = {key: sum(h.get(key) or 0 for h in hypervisors)
            for _l, used, total, _u in RESOURCES for key in (used, total)}
    out = usage_bars(sums)
    out.append({'label': 'Running servers', 'used': sum(h.get('running_vms') or 0
                                                        for h in hypervisors)})
    return out


@bp.route('/')
@admin_only
def index():
    hyps = rest.get('compute', '/os-hypervisors/detail')['hypervisors']
    hyps.sort(key=lambda h: ((h.get('service') or {}).get('host') or '',
                             h['hypervisor_hostname']))
    for h in hyps:
        h['bars'] = usage_bars(h)
    return flask.render_template('admin/hypervisors.html', hypervisors=hyps,
                                 totals=totals(hyps))
