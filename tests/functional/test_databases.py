"""The same cloud on MariaDB and PostgreSQL (SQLite is every other test's).

Each runs when its server answers on loopback; CI machines have both.
"""

import uuid

import pytest

from tests.functional import cloud as cloud_mod


@pytest.mark.parametrize('kind', ['mysql', 'postgresql'])
def test_identity_and_services_on(kind):
    cloud_mod.skip_unless_db_server(kind)
    with cloud_mod.LocalCloud(db=kind) as cloud:
        name = 'p-%s' % uuid.uuid4().hex[:6]
        assert cloud.openstack('token', 'issue', json_out=True)['user_id']
        cloud.openstack('project', 'create', name)
        cloud.openstack('user', 'create', '--password', 'pw', '--project', name, 'u-' + name)
        cloud.openstack('role', 'add', '--project', name, '--user', 'u-' + name, 'member')
        rows = cloud.openstack('role', 'assignment', 'list', '--project', name, '--names',
                               json_out=True)
        assert [r['Role'] for r in rows] == ['member']
        r = cloud.openstack('project', 'create', name, check=False)
        assert r.returncode == 1 and '409' in r.stderr
        states = {s['Binary']: s['State'] for s in
                  cloud.openstack('compute', 'service', 'list', json_out=True)}
        assert set(states.values()) == {'up'} and set(states) == set(cloud_mod.BINARIES.values())
