"""The service catalog as tokens carry it, from the services and endpoints tables.

Endpoint URLs may hold %(project_id)s / %(tenant_id)s / $(project_id)s,
filled in with the token's project.
"""

import sqlalchemy as sa

from common.db import api as db_api
from common.db import models


def _fill(url, project_id):
    if not project_id:
        return url
    for key in ('project_id', 'tenant_id'):
        url = url.replace('%%(%s)s' % key, project_id).replace('$(%s)s' % key, project_id)
    return url


def _unfillable(url, project_id):
    return not project_id and ('(project_id)s' in url or '(tenant_id)s' in url)


def build(project_id=None):
    with db_api.reader() as s:
        services = list(s.scalars(sa.select(models.CatalogService)
                                  .where(models.CatalogService.enabled.is_(True))
                                  .order_by(models.CatalogService.type)))
        endpoints = list(s.scalars(sa.select(models.CatalogEndpoint)
                                   .where(models.CatalogEndpoint.enabled.is_(True))))
    by_service = {}
    for ep in endpoints:
        if _unfillable(ep.url, project_id):
            continue
        by_service.setdefault(ep.service_id, []).append({
            'id': ep.id, 'interface': ep.interface, 'region_id': ep.region_id,
            'region': ep.region_id, 'url': _fill(ep.url, project_id)})
    return [{'id': svc.id, 'type': svc.type, 'name': svc.name or '',
             'endpoints': sorted(by_service.get(svc.id, []), key=lambda e: e['interface'])}
            for svc in services]
