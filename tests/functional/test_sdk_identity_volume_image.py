"""Keystone groups, Cinder's per-role and per-microversion volume fields and
Glance's two JSON-patch media types, driven by the clients people use:
openstacksdk (cloud layer and proxies) and the openstack CLI. No guests."""

import uuid

import openstack
import pytest
import requests

V2_0_PATCH = 'application/openstack-images-v2.0-json-patch'


def _name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def _connect(cloud, user, password, project):
    return openstack.connect(
        auth_url=cloud.auth_url, username=user, password=password, project_name=project,
        user_domain_name='Default', project_domain_name='Default',
        region_name='RegionOne', identity_api_version='3')


@pytest.fixture
def people(cloud):
    """A project and a user with no role of their own, cleaned up after."""
    conn = cloud.sdk()
    project = conn.create_project(_name('gproj'), domain_id='default')
    user = conn.create_user(_name('guser'), password='pw-g1', domain_id='default')
    yield conn, project, user
    for group in conn.identity.groups():
        if group.name.startswith('grp-'):
            conn.identity.delete_group(group)
    conn.delete_user(user.id)
    conn.delete_project(project.id)


def test_group_roles_through_the_sdk(cloud, people):
    conn, project, user = people
    group = conn.create_group(_name('grp'), 'people of a kind', domain='default')
    assert group.domain_id == 'default'
    assert [g.id for g in conn.identity.groups(name=group.name)] == [group.id]
    conn.add_user_to_group(user.id, group.id)
    assert conn.is_user_in_group(user.id, group.id)
    assert [u.id for u in conn.identity.group_users(group)] == [user.id]
    assert [g.id for g in conn.identity.user_groups(user)] == [group.id]
    assert conn.grant_role('member', group=group.id, project=project.id) is True
    assert conn.grant_role('member', group=group.id, project=project.id) is False
    (a,) = conn.list_role_assignments({'group': group.id})
    assert a.group['id'] == group.id and a.scope['project']['id'] == project.id
    effective = list(conn.identity.role_assignments(user_id=user.id, effective=True))
    assert {x.role['id'] for x in effective} == {conn.get_role('member').id,
                                                 conn.get_role('reader').id}
    assert all(x.links['membership'].endswith('/groups/%s/users/%s' % (group.id, user.id))
               for x in effective)
    # the user's own token, scoped to the project, carries the group's role
    theirs = _connect(cloud, user.name, 'pw-g1', project.name)
    access = theirs.session.auth.get_access(theirs.session)
    assert sorted(access.role_names) == ['member', 'reader']
    token = theirs.auth_token
    conn.remove_user_from_group(user.id, group.id)
    assert not conn.is_user_in_group(user.id, group.id)
    # leaving the group takes the role away on the next validation
    r = requests.get(cloud.auth_url + '/auth/tokens', timeout=10, headers={
        'X-Auth-Token': conn.auth_token, 'X-Subject-Token': token})
    assert r.status_code == 404, r.text
    assert conn.revoke_role('member', group=group.id, project=project.id) is True
    conn.delete_group(group.id)
    assert conn.identity.find_group(group.id) is None


def test_groups_through_the_cli(cloud, people):
    _conn, project, user = people
    gname = _name('grp')
    g = cloud.openstack('group', 'create', '--domain', 'default', '--description', 'D',
                        gname, json_out=True)
    assert g['name'] == gname and g['domain_id'] == 'default'
    cloud.openstack('group', 'add', 'user', gname, user.name)
    out = cloud.openstack('group', 'contains', 'user', gname, user.name)
    assert 'in group' in out and 'not in' not in out
    assert gname in [x['Name'] for x in cloud.openstack('group', 'list', '--user', user.name,
                                                         json_out=True)]
    cloud.openstack('role', 'add', '--group', gname, '--project', project.name, 'member')
    rows = cloud.openstack('role', 'assignment', 'list', '--effective', '--names',
                           '--project', project.name, json_out=True)
    assert {(r['Role'], r['User']) for r in rows} == {
        ('member', '%s@Default' % user.name), ('reader', '%s@Default' % user.name)}
    rows = cloud.openstack('role', 'assignment', 'list', '--names', '--group', gname,
                           json_out=True)
    assert [(r['Role'], r['Group']) for r in rows] == [('member', '%s@Default' % gname)]
    tok = cloud.openstack('--os-username', user.name, '--os-password', 'pw-g1',
                          '--os-project-name', project.name, 'token', 'issue',
                          json_out=True)
    assert tok['project_id'] == project.id and tok['user_id'] == user.id
    cloud.openstack('group', 'remove', 'user', gname, user.name)
    r = cloud.openstack('group', 'contains', 'user', gname, user.name, check=False)
    assert 'not in group' in r.stderr  # the CLI says so on stderr
    cloud.openstack('group', 'delete', gname)


def test_a_member_sees_cinder_fields_a_project_reader_sees(cloud):
    demo, admin = cloud.sdk('demo'), cloud.sdk()
    created = demo.block_storage.post('/volumes', json={'volume': {
        'size': 1, 'name': _name('vol')}}).json()['volume']
    # as Cinder: the extension attributes are for show and list-detail only
    assert 'os-vol-tenant-attr:tenant_id' not in created
    vol = demo.block_storage.get_volume(created['id'])
    try:
        demo.block_storage.wait_for_status(vol, 'available', wait=120)
        shown = demo.block_storage.get('/volumes/%s' % vol.id).json()['volume']
        assert shown['os-vol-tenant-attr:tenant_id'] == demo.current_project_id
        assert 'os-vol-host-attr:host' not in shown
        assert not [k for k in shown if k.startswith('os-vol-mig-status-attr')]
        assert demo.block_storage.get_volume(vol).project_id == demo.current_project_id
        assert vol.id in [v.id for v in demo.list_volumes()]
        listed = [v for v in demo.block_storage.get('/volumes/detail').json()['volumes']
                  if v['id'] == vol.id]
        assert listed[0]['os-vol-tenant-attr:tenant_id'] == demo.current_project_id
        assert 'os-vol-host-attr:host' not in listed[0]
        as_admin = admin.block_storage.get('/volumes/%s' % vol.id).json()['volume']
        assert as_admin['os-vol-host-attr:host']
        out = cloud.openstack('volume', 'show', vol.id, cloud='demo', json_out=True)
        # the CLI lists every attribute it knows; the host stays empty for a member
        assert out.get('os-vol-host-attr:host') is None
        assert out['os-vol-tenant-attr:tenant_id'] == demo.current_project_id
    finally:
        demo.block_storage.delete_volume(vol)
        demo.block_storage.wait_for_delete(vol, wait=120)


def test_volume_services_follow_the_microversion(cloud):
    admin = cloud.sdk()
    old = admin.block_storage.get('/os-services', microversion='3.0').json()['services']
    assert old and not [s for s in old if 'cluster' in s]
    new = admin.block_storage.get('/os-services', microversion='3.7').json()['services']
    assert all('cluster' in s for s in new)
    rows = cloud.openstack('volume', 'service', 'list', json_out=True)
    assert 'cinder-volume' in {r['Binary'] for r in rows}


def test_image_patch_in_both_media_types(cloud):
    conn = cloud.sdk()
    img = conn.image.create_image(name=_name('img'), disk_format='raw',
                                  container_format='bare', visibility='private')
    try:
        # v2.1 (what the SDK and CLI send)
        conn.image.update_image(img, name='renamed', os_distro='debian')
        cloud.openstack('image', 'set', '--property', 'hw_disk_bus=virtio', img.id)
        # v2.0 (older clients): the op is the member's name; add adds only
        url = '/images/%s' % img.id
        r = conn.image.patch(url, json=[{'replace': '/os_distro', 'value': 'ubuntu'},
                                        {'add': '/flavour', 'value': 'plain'}],
                             headers={'Content-Type': V2_0_PATCH})
        assert r.status_code == 200, r.text
        r = conn.image.patch(url, json=[{'add': '/flavour', 'value': 'again'}],
                             headers={'Content-Type': V2_0_PATCH}, raise_exc=False)
        assert r.status_code == 409 and 'already present' in r.text
        r = conn.image.patch(url, json=[], headers={'Content-Type': 'application/json'},
                             raise_exc=False)
        assert r.status_code == 415
        assert V2_0_PATCH in r.headers['Accept-Patch']
        got = conn.image.get(url).json()
        assert got['name'] == 'renamed' and got['os_distro'] == 'ubuntu'
        assert got['flavour'] == 'plain' and got['hw_disk_bus'] == 'virtio'
        assert conn.image.get_image(img).os_distro == 'ubuntu'
    finally:
        conn.image.delete_image(img)
