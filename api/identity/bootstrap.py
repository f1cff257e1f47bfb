"""Bootstrap identity: the Default domain, admin and demo projects and
users, the admin/member/reader roles, RegionOne and the service catalog.

Idempotent: what exists is kept (passwords are reset to the given ones).
"""

import uuid

import sqlalchemy as sa

from common import auth
from common import passwords
from common.conf import CONF
from common.db import api as db_api
from common.db import models

ROLES = ('admin', 'member', 'reader')
REGION = 'RegionOne'


def catalog_entries():
    """(type, name, description, url) of every API; URLs from config."""
    host = CONF.api.public_host
    api = 'http://%s:%d' % (host, CONF.api.public_port or CONF.api.bind_port)
    image = 'http://%s:%d' % (host, CONF.image.bind_port)
    volume = api + '/volume/v3/%(project_id)s'
    return [
        ('identity', 'keystone', 'Identity', api + '/identity/v3'),
        ('compute', 'nova', 'Compute', api + '/compute/v2.1'),
        ('volumev3', 'cinderv3', 'Block storage v3', volume),
        ('block-storage', 'cinder', 'Block storage', volume),
        ('network', 'neutron', 'Networking', api + '/network'),
        ('image', 'glance', 'Image', image),
    ]


def _get_or_add(s, model, where, **values):
    row = s.scalars(sa.select(model).filter_by(**where)).first()
    if row is None:
        row = model(**where, **values)
        s.add(row)
        s.flush()
    return row


def _new_id():
    return uuid.uuid4().hex


def bootstrap(admin_password, demo_password=None):
    with db_api.session() as s:
        _get_or_add(s, models.Domain, {'id': 'default'}, name='Default',
                    description='The default domain', enabled=True)
        roles = {name: _get_or_add(s, models.Role, {'name': name}, id=_new_id())
                 for name in ROLES}
        people = [('admin', admin_password, 'admin')]
        if demo_password:
            people.append(('demo', demo_password, 'member'))
        for name, password, role in people:
            project = _get_or_add(s, models.Project, {'name': name, 'domain_id': 'default'},
                                  id=_new_id(), enabled=True,
                                  description='Bootstrap project %s' % name)
            user = _get_or_add(s, models.User, {'name': name, 'domain_id': 'default'},
                               id=_new_id(), enabled=True, default_project_id=project.id)
            if not passwords.verify_password(password, user.password_hash):
                user.password_hash = passwords.hash_password(password)
            key = (user.id, 'project', project.id, roles[role].id)
            if s.get(models.RoleAssignment, key) is None:
                s.add(models.RoleAssignment(actor_id=user.id, target_type='project',
                                            target_id=project.id, role_id=roles[role].id))
            if role == 'admin':  # the cloud admin also administers the domain
                key = (user.id, 'domain', 'default', roles[role].id)
                if s.get(models.RoleAssignment, key) is None:
                    s.add(models.RoleAssignment(actor_id=user.id, target_type='domain',
                                                target_id='default', role_id=roles[role].id))
        _get_or_add(s, models.Region, {'id': REGION}, description='')
        for stype, name, desc, url in catalog_entries():
            svc = _get_or_add(s, models.CatalogService, {'type': stype}, id=_new_id(),
                              name=name, description=desc, enabled=True)
            for interface in ('public', 'internal', 'admin'):
                ep = _get_or_add(s, models.CatalogEndpoint,
                                 {'service_id': svc.id, 'interface': interface},
                                 id=_new_id(), region_id=REGION, url=url, enabled=True)
                ep.url = url
    auth.changed()
