"""Who sees which image: visibility (public, private, shared, community),
members and their status, admins."""

import pytest

from tests.fixtures.images import active_image
from tests.fixtures.images import create
from tests.fixtures.images import names
from tests.fixtures.images import patch


@pytest.fixture
def world(image_client, people):
    """One image of each visibility, owned by demo, plus admin's private one."""
    c = image_client
    imgs = {v: create(c, people.demo if v != 'public' else people.admin, name=v,
                      visibility=v)
            for v in ('public', 'private', 'shared', 'community')}
    imgs['admin-private'] = create(c, people.admin, name='admin-private', visibility='private')
    return imgs


def member(client, who, image_id, member_id, status, expect=200):
    r = client.put('/v2/images/%s/members/%s' % (image_id, member_id),
                   json={'status': status}, headers=who.h)
    assert r.status_code == expect, r.get_data(as_text=True)
    return r


def share(client, owner, image_id, member_id, expect=200):
    r = client.post('/v2/images/%s/members' % image_id, json={'member': member_id},
                    headers=owner.h)
    assert r.status_code == expect, r.get_data(as_text=True)
    return r.get_json() if expect == 200 else r


def test_default_lists(image_client, people, world):
    c = image_client
    assert names(c, people.demo) == {'public', 'private', 'shared', 'community'}
    assert names(c, people.other) == {'public'}
    # admins see every project's images, but not others' community images by default
    assert names(c, people.admin) == {'public', 'private', 'shared', 'admin-private'}
    assert names(c, people.admin, '?visibility=community') == {'community'}
    assert names(c, people.admin, '?visibility=all') == set(world)


def test_visibility_filters(image_client, people, world):
    c = image_client
    for vis in ('public', 'private', 'shared', 'community'):
        assert names(c, people.demo, '?visibility=' + vis) == {vis}
    assert names(c, people.other, '?visibility=community') == {'community'}
    assert names(c, people.other, '?visibility=private') == set()
    assert names(c, people.other, '?visibility=shared') == set()


def test_show_follows_visibility(image_client, people, world):
    c = image_client

    def code(who, key):
        return c.get('/v2/images/%s' % world[key]['id'], headers=who.h).status_code
    assert code(people.other, 'public') == 200
    assert code(people.other, 'community') == 200
    assert code(people.other, 'private') == 404
    assert code(people.other, 'shared') == 404
    assert code(people.demo, 'admin-private') == 404
    assert code(people.admin, 'private') == 200


def test_private_data_is_hidden_too(image_client, people, raw_bytes):
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw',
                       visibility='private')
    r = image_client.get('/v2/images/%s/file' % img['id'], headers=people.other.h)
    assert r.status_code == 404
    r = image_client.get('/v2/images/%s/file' % img['id'], headers=people.demo.h)
    assert r.status_code == 200 and r.data == raw_bytes


def test_sharing_accept_flow(image_client, people, world, raw_bytes):
    c = image_client
    shared = world['shared']
    m = share(c, people.demo, shared['id'], people.other.project_id)
    assert m == {'image_id': shared['id'], 'member_id': people.other.project_id,
                 'status': 'pending', 'created_at': m['created_at'],
                 'updated_at': m['updated_at'], 'schema': '/v2/schemas/member'}
    # pending: reachable by id, not listed unless asked for
    assert c.get('/v2/images/%s' % shared['id'], headers=people.other.h).status_code == 200
    assert names(c, people.other) == {'public'}
    assert names(c, people.other, '?visibility=shared&member_status=pending') == {'shared'}
    assert names(c, people.other, '?member_status=all') == {'public', 'shared'}
    # the member sees only itself in the member list; the owner sees all
    share(c, people.demo, shared['id'], people.third.project_id)
    r = c.get('/v2/images/%s/members' % shared['id'], headers=people.other.h)
    assert [x['member_id'] for x in r.get_json()['members']] == [people.other.project_id]
    assert r.get_json()['schema'] == '/v2/schemas/members'
    r = c.get('/v2/images/%s/members' % shared['id'], headers=people.demo.h)
    assert {x['member_id'] for x in r.get_json()['members']} == {
        people.other.project_id, people.third.project_id}
    # accept: now it is listed
    out = member(c, people.other, shared['id'], people.other.project_id, 'accepted').get_json()
    assert out['status'] == 'accepted'
    assert names(c, people.other) == {'public', 'shared'}
    assert names(c, people.other, '?visibility=shared') == {'shared'}
    # reject: gone from the list again, still reachable by id
    member(c, people.other, shared['id'], people.other.project_id, 'rejected')
    assert names(c, people.other) == {'public'}
    assert c.get('/v2/images/%s' % shared['id'], headers=people.other.h).status_code == 200
    r = c.get('/v2/images/%s/members/%s' % (shared['id'], people.other.project_id),
              headers=people.other.h)
    assert r.status_code == 200 and r.get_json()['status'] == 'rejected'
    # a member may download
    img = active_image(c, people.demo, raw_bytes, disk_format='raw')
    share(c, people.demo, img['id'], people.other.project_id)
    assert c.get('/v2/images/%s/file' % img['id'], headers=people.other.h).data == raw_bytes


def test_member_rules(image_client, people, world):
    c = image_client
    shared = world['shared']
    share(c, people.demo, shared['id'], people.other.project_id)
    # only the member changes its status; the owner gets 403
    r = member(c, people.demo, shared['id'], people.other.project_id, 'accepted', expect=403)
    assert b'Only the member itself' in r.data
    member(c, people.other, shared['id'], people.other.project_id, 'maybe', expect=400)
    # someone who is not a member sees nothing
    assert c.get('/v2/images/%s/members' % shared['id'],
                 headers=people.third.h).status_code == 404
    # only the owner adds and removes members
    share(c, people.other, shared['id'], people.third.project_id, expect=403)
    r = c.delete('/v2/images/%s/members/%s' % (shared['id'], people.other.project_id),
                 headers=people.other.h)
    assert r.status_code == 403
    share(c, people.demo, shared['id'], people.other.project_id, expect=409)
    share(c, people.demo, shared['id'], people.demo.project_id, expect=400)
    r = c.post('/v2/images/%s/members' % shared['id'], json={'who': 'x'}, headers=people.demo.h)
    assert r.status_code == 400
    # members exist only on shared images
    r = share(c, people.demo, world['private']['id'], people.other.project_id, expect=403)
    assert b'Only shared images have members' in r.data
    # removing the member ends its access
    r = c.delete('/v2/images/%s/members/%s' % (shared['id'], people.other.project_id),
                 headers=people.demo.h)
    assert r.status_code == 204
    assert c.get('/v2/images/%s' % shared['id'], headers=people.other.h).status_code == 404
    r = c.delete('/v2/images/%s/members/%s' % (shared['id'], people.other.project_id),
                 headers=people.demo.h)
    assert r.status_code == 404


def test_making_a_shared_image_private_hides_it_from_members(image_client, people, world):
    c = image_client
    shared = world['shared']
    share(c, people.demo, shared['id'], people.other.project_id)
    member(c, people.other, shared['id'], people.other.project_id, 'accepted')
    patch(c, people.demo, shared['id'], [{'op': 'replace', 'path': '/visibility',
                                          'value': 'private'}])
    assert c.get('/v2/images/%s' % shared['id'], headers=people.other.h).status_code == 404
    assert names(c, people.other) == {'public'}


def test_member_quota(image_client, people, world, image_conf):
    image_conf.set_override('image_member_quota', 1, 'image')
    try:
        share(image_client, people.demo, world['shared']['id'], people.other.project_id)
        share(image_client, people.demo, world['shared']['id'], people.third.project_id,
              expect=413)
    finally:
        image_conf.clear_override('image_member_quota', 'image')


def test_admin_may_act_for_members_and_owners(image_client, people, world):
    c = image_client
    shared = world['shared']
    share(c, people.admin, shared['id'], people.other.project_id)
    member(c, people.admin, shared['id'], people.other.project_id, 'accepted')
    assert names(c, people.other) == {'public', 'shared'}
