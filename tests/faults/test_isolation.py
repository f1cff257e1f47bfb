"""Issue 16, scenario 7: the isolation matrix, against one real cloud.

Project A (demo) owns one of each resource. Every route of the API
service's and the image service's own route tables (their Flask URL maps,
so a new route is in the matrix without editing this file) is called with
A's resources in its placeholders:
  - by a member of project B: 404 for A's resource, 403 on admin-only routes
    (never a 2xx, never a 5xx);
  - by a user with only the reader role on A: 403 on every write;
  - with an expired, a revoked and a tampered token: 401.
Every error body is checked to be the real service's shape (Nova and
Cinder {"itemNotFound": {"code", "message"}}, Neutron {"NeutronError"},
Keystone {"error"}, Glance an HTML page). No fault is injected and nothing
is left to converge: the module's cloud is only read after its set-up.
"""

import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.faults.routes import ROUTES
from tests.faults.routes import assert_error_shape
from tests.functional.cloud import ADMIN_PASSWORD
from tests.functional.cloud import DEMO_PASSWORD
from tests.functional.cloud import LocalCloud
from tests.functional.cloud import _checkout_env

B_PASSWORD = 'iso-b-secret'
READER_PASSWORD = 'iso-reader-secret'
WRITES = ('POST', 'PUT', 'PATCH', 'DELETE')

# Routes about the caller's own token, whoever the caller is.
OPEN_TO_ALL = {
    ('DELETE', '/identity/v3/auth/tokens'), ('GET', '/identity/v3/auth/tokens'),
    ('HEAD', '/identity/v3/auth/tokens'), ('POST', '/identity/v3/auth/tokens'),
}
# Placeholder-free routes that only an admin may use: a member gets 403.
ADMIN_ONLY = re.compile(
    r'^(GET|POST|PUT|DELETE) /compute/v2\.1/(os-aggregates|os-hypervisors|os-services|'
    r'os-migrations|os-simple-tenant-usage)(/|$)'
    r'|^GET /compute/v2\.1/os-availability-zone/detail$'
    r'|^POST /compute/v2\.1/flavors$'
    r'|^GET /volume/v3/<project_id>/os-services$'
    r'|^POST /volume/v3/<project_id>/types$|^DELETE /volume/v3/<project_id>/types/'
    r'|^GET /network/v2\.0/quotas$'
    r'|^(POST|PATCH|DELETE) /identity/v3/(domains|regions|services|endpoints|roles)(/|$)'
    r'|^(GET|POST) /identity/v3/(users|groups|domains)$')




# -- the cloud and project A's resources ------------------------------------
@pytest.fixture(scope='module')
def cloud():
    with LocalCloud(compute=False) as c:
        yield c


class World:
    """Tokens, endpoints and project A's resources."""


def _token(cloud, user, password, project):
    r = requests.post(cloud.auth_url + '/auth/tokens', json={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': user, 'domain': {'id': 'default'}, 'password': password}}},
        'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers['X-Subject-Token'], r.json()['token']


def _call(w, token, method, url, body=None, expect=None):
    headers = {'X-Auth-Token': token, 'OpenStack-API-Version': 'compute 2.61, volume 3.3'}
    kw = {'json': body}
    base = w.api
    if url.startswith('/v2/'):
        base = w.image
        if method == 'PATCH':
            headers['Content-Type'] = 'application/openstack-images-v2.1-json-patch'
            kw = {'data': '[]'}
        elif method == 'PUT' and url.endswith('/file'):
            headers['Content-Type'] = 'application/octet-stream'
            kw = {'data': b'iso'}
    r = w.http.request(method, base + url, headers=headers, timeout=60, **kw)
    if expect is not None:
        assert r.status_code == expect, '%s %s -> %d %s' % (method, url, r.status_code, r.text)
    return r


def _wait(w, url, key, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _call(w, w.a, 'GET', url, expect=200).json()[key]
        if body['status'] in status:
            return body
        time.sleep(0.3)
    raise AssertionError('%s never reached %s: %s' % (url, status, body))


@pytest.fixture(scope='module')
def world(cloud):
    w = World()
    w.cloud = cloud
    w.api = 'http://127.0.0.1:%d' % cloud.api_port
    w.image = 'http://127.0.0.1:%d' % cloud.image_port
    w.http = requests.Session()
    # Project B and its member, and a user with only the reader role on A,
    # made as an operator would: the openstack CLI.
    cloud.openstack('project', 'create', '--domain', 'default', 'iso-b')
    cloud.openstack('user', 'create', '--domain', 'default', '--password', B_PASSWORD,
                    '--project', 'iso-b', 'iso-bob')
    cloud.openstack('role', 'add', '--project', 'iso-b', '--user', 'iso-bob', 'member')
    cloud.openstack('user', 'create', '--domain', 'default', '--password', READER_PASSWORD,
                    'iso-reader')
    cloud.openstack('role', 'add', '--project', 'demo', '--user', 'iso-reader', 'reader')
    w.admin, _ = _token(cloud, 'admin', ADMIN_PASSWORD, 'admin')
    w.a, a_tok = _token(cloud, 'demo', DEMO_PASSWORD, 'demo')
    w.b, b_tok = _token(cloud, 'iso-bob', B_PASSWORD, 'iso-b')
    w.reader, r_tok = _token(cloud, 'iso-reader', READER_PASSWORD, 'demo')
    assert [r['name'] for r in r_tok['roles']] == ['reader']
    w.project_a, w.project_b = a_tok['project']['id'], b_tok['project']['id']
    w.user_a, w.user_b = a_tok['user']['id'], b_tok['user']['id']
    _make_resources(w)
    return w


def _make_resources(w):
    A, admin = w.a, w.admin
    p = {}
    # A private flavor that only project A may use.
    flavor = _call(w, admin, 'POST', '/compute/v2.1/flavors', {'flavor': {
        'name': 'iso-private', 'ram': 64, 'vcpus': 1, 'disk': 1,
        'os-flavor-access:is_public': False}}, expect=200).json()['flavor']
    _call(w, admin, 'POST', '/compute/v2.1/flavors/%s/action' % flavor['id'],
          {'addTenantAccess': {'tenant': w.project_a}}, expect=200)
    _call(w, admin, 'POST', '/compute/v2.1/flavors/%s/os-extra_specs' % flavor['id'],
          {'extra_specs': {'iso:key': 'v'}}, expect=200)
    p['flavor_id'] = flavor['id']
    # A private image with data (1 KiB, raw).
    image = _call(w, A, 'POST', '/v2/images', {'name': 'iso-image', 'disk_format': 'raw',
                                                'container_format': 'bare',
                                                'visibility': 'private',
                                                'tags': ['iso']}, expect=201).json()
    r = w.http.put(w.image + '/v2/images/%s/file' % image['id'], data=b'\0' * 1024,
                   headers={'X-Auth-Token': A, 'Content-Type': 'application/octet-stream'},
                   timeout=60)
    assert r.status_code == 204, r.text
    p['image_id'] = image['id']
    # Network, subnet, port, router, security group and rule, floating IP.
    net = _call(w, A, 'POST', '/network/v2.0/networks', {'network': {
        'name': 'iso-net'}}, expect=201).json()['network']
    p['net_id'] = net['id']
    p['subnet_id'] = _call(w, A, 'POST', '/network/v2.0/subnets', {'subnet': {
        'network_id': net['id'], 'cidr': '10.213.7.0/24', 'ip_version': 4}},
        expect=201).json()['subnet']['id']
    p['port_id'] = _call(w, A, 'POST', '/network/v2.0/ports', {'port': {
        'network_id': net['id'], 'name': 'iso-port'}}, expect=201).json()['port']['id']
    p['router_id'] = _call(w, A, 'POST', '/network/v2.0/routers', {'router': {
        'name': 'iso-router'}}, expect=201).json()['router']['id']
    sg = _call(w, A, 'POST', '/network/v2.0/security-groups', {'security_group': {
        'name': 'iso-sg'}}, expect=201).json()['security_group']
    p['sg_id'] = sg['id']
    p['rule_id'] = _call(w, A, 'POST', '/network/v2.0/security-group-rules', {
        'security_group_rule': {'security_group_id': sg['id'], 'direction': 'ingress',
                                'protocol': 'tcp', 'port_range_min': 22,
                                'port_range_max': 22}}, expect=201).json()[
        'security_group_rule']['id']
    public = [n for n in _call(w, A, 'GET', '/network/v2.0/networks',
                               expect=200).json()['networks'] if n.get('router:external')]
    p['public_id'] = public[0]['id']
    p['fip_id'] = _call(w, A, 'POST', '/network/v2.0/floatingips', {'floatingip': {
        'floating_network_id': public[0]['id']}}, expect=201).json()['floatingip']['id']
    for coll, key in (('networks', 'net_id'), ('subnets', 'subnet_id'), ('ports', 'port_id'),
                      ('security-groups', 'sg_id'), ('floatingips', 'fip_id'),
                      ('routers', 'router_id')):
        _call(w, A, 'PUT', '/network/v2.0/%s/%s/tags/iso' % (coll, p[key]), expect=201)
    # Keypair and server group.
    p['keypair'] = 'iso-key'
    _call(w, A, 'POST', '/compute/v2.1/os-keypairs', {'keypair': {'name': 'iso-key'}},
          expect=201)
    p['server_group_id'] = _call(w, A, 'POST', '/compute/v2.1/os-server-groups', {
        'server_group': {'name': 'iso-group', 'policies': ['anti-affinity']}},
        expect=200).json()['server_group']['id']
    # A volume and its snapshot.
    vol = _call(w, A, 'POST', '/volume/v3/%s/volumes' % w.project_a, {'volume': {
        'size': 1, 'name': 'iso-vol', 'metadata': {'k1': 'v1'}}}, expect=202).json()['volume']
    p['volume_id'] = vol['id']
    _wait(w, '/volume/v3/%s/volumes/%s' % (w.project_a, vol['id']), 'volume', ('available',))
    snap = _call(w, A, 'POST', '/volume/v3/%s/snapshots' % w.project_a, {'snapshot': {
        'volume_id': vol['id'], 'name': 'iso-snap'}}, expect=202).json()['snapshot']
    p['snapshot_id'] = snap['id']
    _wait(w, '/volume/v3/%s/snapshots/%s' % (w.project_a, snap['id']), 'snapshot',
          ('available',))
    # A server (no compute host: it ends in ERROR, and is still A's), with
    # metadata and a tag (given at boot: Nova changes them only on servers
    # that are up or stopped).
    server = _call(w, A, 'POST', '/compute/v2.1/servers', {'server': {
        'name': 'iso-server', 'flavorRef': flavor['id'], 'imageRef': image['id'],
        'networks': [{'uuid': net['id']}], 'metadata': {'k1': 'v1'}, 'tags': ['iso'],
        'key_name': 'iso-key'}}, expect=202).json()['server']
    p['server_id'] = server['id']
    actions = _call(w, A, 'GET', '/compute/v2.1/servers/%s/os-instance-actions'
                    % server['id'], expect=200).json()['instanceActions']
    p['request_id'] = actions[0]['request_id']
    w.res = p


# -- filling the placeholders ------------------------------------------------
def _fill(w, method, rule, caller_project):
    """The URL of ``rule`` with A's resources in its placeholders; None when
    the route names none of A's resources (then only ADMIN_ONLY is checked)."""
    p = w.res
    owned = False

    def value(m):
        nonlocal owned
        name = m.group(1).split(':')[-1]
        before = rule[:m.start()]
        if name == 'project_id' and before == '/volume/v3/':
            return caller_project      # Cinder's URLs carry the caller's project
        owned = True
        if name == 'group_id':
            if 'os-server-groups' in before:
                return p['server_group_id']
            if 'security-groups' in before:
                return p['sg_id']
            return 'no-such-group'
        if name in ('id_', 'target_id') and '/identity/v3/' in before:
            return w.user_a if before.endswith('/users/') else w.project_a
        simple = {
            'server_id': p['server_id'], 'flavor_id': p['flavor_id'], 'name': p['keypair'],
            'volume_id': p['volume_id'], 'snapshot_id': p['snapshot_id'],
            'net_id': p['net_id'], 'subnet_id': p['subnet_id'], 'port_id': p['port_id'],
            'router_id': p['router_id'], 'fip_id': p['fip_id'], 'rule_id': p['rule_id'],
            'image_id': p['image_id'], 'project_id': w.project_a, 'target': w.project_a,
            'key': 'k1', 'tag': 'iso', 'network_label': 'iso-net',
            'request_id': p['request_id'], 'actor_id': w.user_a, 'user_id': w.user_a,
            'member_id': w.project_b, 'role_id': 'member',
        }
        if name in simple:
            return simple[name]
        owned = False
        return 'x-%s' % name      # an admin resource (aggregate, service, ...)
    url = re.sub(r'<([^>]+)>', value, rule)
    return url, owned


_SINGULAR = {'networks': 'network', 'subnets': 'subnet', 'ports': 'port',
             'routers': 'router', 'floatingips': 'floatingip',
             'security-groups': 'security_group', 'servers': 'server', 'volumes': 'volume',
             'snapshots': 'snapshot', 'os-aggregates': 'aggregate', 'flavors': 'flavor'}
_BODIES = {
    '/servers/<server_id>/action': {'os-stop': None},
    '/volumes/<volume_id>/action': {'os-extend': {'new_size': 2}},
    '/snapshots/<snapshot_id>/action': {'os-reset_status': {'status': 'available'}},
    '/remote-consoles': {'remote_console': {'protocol': 'vnc', 'type': 'novnc'}},
    '/os-interface': {'interfaceAttachment': {}},
    '/os-volume_attachments': {'volumeAttachment': {'volumeId': str(uuid.uuid4())}},
    '/tags': {'tags': ['iso2']},
    '/metadata': {'metadata': {'k1': 'v2'}},
    '/os-extra_specs': {'extra_specs': {'k1': 'v2'}},
    '/router_interface': {'subnet_id': str(uuid.uuid4())},
    'extraroutes': {'router': {'routes': []}},
    '/v2/images/<image_id>/members/<member_id>': {'status': 'accepted'},
}


def _collection_bodies(w):
    p, net = w.res, 'network/v2.0/'
    return {
        '/compute/v2.1/os-server-groups': {'server_group': {
            'name': 'iso-2', 'policies': ['affinity']}},
        '/volume/v3/<project_id>/snapshots': {'snapshot': {'volume_id': p['volume_id']}},
        '/volume/v3/<project_id>/volumes': {'volume': {'size': 1}},
        '/' + net + 'networks': {'network': {'name': 'iso-2'}},
        '/' + net + 'subnets': {'subnet': {'network_id': p['net_id'], 'ip_version': 4,
                                           'cidr': '10.213.8.0/24'}},
        '/' + net + 'ports': {'port': {'network_id': p['net_id']}},
        '/' + net + 'routers': {'router': {'name': 'iso-2'}},
        '/' + net + 'security-groups': {'security_group': {'name': 'iso-2'}},
        '/' + net + 'security-group-rules': {'security_group_rule': {
            'security_group_id': p['sg_id'], 'direction': 'egress'}},
        '/' + net + 'floatingips': {'floatingip': {'floating_network_id': p['public_id']}},
        '/compute/v2.1/servers': {'server': {
            'name': 'iso-2', 'flavorRef': p['flavor_id'], 'imageRef': p['image_id'],
            'networks': [{'uuid': p['net_id']}]}},
        '/v2/images': {'name': 'iso-2', 'disk_format': 'raw', 'container_format': 'bare'},
    }


def _body(method, rule, w=None):
    """A body the route would accept from its owner, so that a refusal is
    the authorization's and not the schema's."""
    if method not in ('POST', 'PUT', 'PATCH'):
        return None
    if w is not None and rule in _collection_bodies(w):
        return _collection_bodies(w)[rule]
    if rule.endswith('/v2/images/<image_id>/members'):
        return {'member': w.project_b if w else uuid.uuid4().hex}
    for end, body in _BODIES.items():
        if rule.endswith(end):
            return body
    if rule.endswith('/metadata/<key>'):
        return {'meta': {'k1': 'v2'}}
    if rule.endswith('/os-extra_specs/<key>'):
        return {'k1': 'v2'}
    m = re.search(r'/([a-z-]+)/<[a-z_]+>$', rule)
    if m and m.group(1) == 'floatingips':
        return {'floatingip': {'description': 'iso'}}
    if m and m.group(1) in _SINGULAR:
        return {_SINGULAR[m.group(1)]: {'name': 'iso-renamed'}}
    return {}


# -- the error shapes --------------------------------------------------------
def _shape(wrong, r, method, url, rule):
    try:
        assert_error_shape(r, rule)
    except (AssertionError, ValueError, KeyError) as e:
        wrong.append('%s %s -> %d not in the service error shape: %s'
                     % (method, url, r.status_code, e))


# -- the matrix ---------------------------------------------------------------
# Creations whose bodies name A's resources (a port on A's network, a
# snapshot of A's volume, a server with A's private flavor and image): B
# is refused, as the named resource is not found for B.
NAMES_A = {'/network/v2.0/subnets', '/network/v2.0/ports', '/network/v2.0/security-group-rules',
           '/volume/v3/<project_id>/snapshots', '/compute/v2.1/servers'}


def _expected_for_b(method, rule, owned):
    if method == 'POST' and rule in NAMES_A:
        return (400, 403, 404)
    if method == 'GET' and re.search(r'/defaults?$', rule):
        return None     # the default quotas: the same for every project, open to all
    if owned:
        return (404, 403)
    if ADMIN_ONLY.match('%s %s' % (method, rule)):
        return (403,)
    return None


def test_member_of_another_project_gets_404_or_403(world):
    w = world
    wrong = []
    checked = 0
    for where, method, rule in ROUTES:
        if (method, rule) in OPEN_TO_ALL or method == 'HEAD' and where == 'image':
            continue
        url, owned = _fill(w, method, rule, w.project_b)
        expected = _expected_for_b(method, rule, owned)
        r = _call(w, w.b, method, url, _body(method, rule, w))
        if r.status_code >= 500 or (expected and r.status_code not in expected):
            wrong.append('%s %s -> %d %s' % (method, url, r.status_code, r.text[:200]))
            continue
        if expected:
            checked += 1
            _shape(wrong, r, method, url, rule)
            if owned and 404 in expected and r.status_code == 403 and \
                    not _admin_managed(rule):
                wrong.append('%s %s -> 403 (A\'s resource must not be told to exist: 404)'
                             % (method, url))
    assert not wrong, '\n'.join(wrong)
    print('member of B: %d routes x verbs checked of %d' % (checked, len(ROUTES)))
    assert checked > 150


def _admin_managed(rule):
    """Routes whose placeholder names what only an admin manages (a flavor's
    access and specs, a project's quota and usage, identity records): Nova,
    Cinder, Neutron and Keystone refuse them with 403 by policy."""
    return bool(re.search(r'flavors/<flavor_id>(/os-|/action|$)|quota|usage|^/identity/',
                          rule))


def test_reader_cannot_write_anything(world):
    w = world
    wrong = []
    checked = 0
    for _where, method, rule in ROUTES:
        if method not in WRITES or (method, rule) in OPEN_TO_ALL:
            continue
        if rule in ('/compute/v2.1/os-keypairs',) or rule.startswith(
                '/compute/v2.1/os-keypairs/'):
            continue     # keypairs are the user's own, not the project's (Nova)
        url, _ = _fill(w, method, rule, w.project_a)
        r = _call(w, w.reader, method, url, _body(method, rule, w))
        checked += 1
        if r.status_code != 403:
            wrong.append('%s %s -> %d %s' % (method, url, r.status_code, r.text[:200]))
            continue
        _shape(wrong, r, method, url, rule)
    assert not wrong, '\n'.join(wrong)
    print('reader of A: %d writes checked' % checked)


def _expired_token(cloud, user_id, project_id):
    """A token signed with the cloud's own keys whose time ran out an hour ago."""
    code = ('import datetime, sys\n'
            'from common import config\n'
            'config.parse_args(["--config-file", sys.argv[1]])\n'
            'from common import tokens\n'
            'past = datetime.datetime.now(datetime.timezone.utc) - '
            'datetime.timedelta(hours=1)\n'
            'p = tokens.TokenPayload(sys.argv[2], ["password"], sys.argv[3], '
            'expires_at=past, issued_at=past - datetime.timedelta(hours=1))\n'
            'print(tokens.encode(p))\n')
    r = subprocess.run([sys.executable, '-c', code, cloud.conf_path, user_id, project_id],
                       capture_output=True, text=True, env=_checkout_env(), timeout=60,
                       check=True)
    return r.stdout.strip()


def test_expired_revoked_and_tampered_tokens_get_401(world):
    w = world
    revoked, _ = _token(w.cloud, 'demo', DEMO_PASSWORD, 'demo')
    _call(w, w.a, 'GET', '/compute/v2.1/servers', expect=200)
    r = w.http.delete(w.cloud.auth_url + '/auth/tokens',
                      headers={'X-Auth-Token': w.admin, 'X-Subject-Token': revoked})
    assert r.status_code == 204, r.text
    middle = len(w.a) // 2
    tampered = w.a[:middle] + ('A' if w.a[middle] != 'A' else 'B') + w.a[middle + 1:]
    tokens = {'expired': _expired_token(w.cloud, w.user_a, w.project_a),
              'revoked': revoked, 'tampered': tampered, 'garbage': uuid.uuid4().hex}
    urls = ['/compute/v2.1/servers/%s' % w.res['server_id'],
            '/volume/v3/%s/volumes' % w.project_a, '/network/v2.0/networks',
            '/identity/v3/projects/%s' % w.project_a, '/v2/images/%s' % w.res['image_id']]
    for what, token in tokens.items():
        for url in urls:
            r = _call(w, token, 'GET', url)
            assert r.status_code == 401, (what, url, r.status_code, r.text)
            assert 'WWW-Authenticate' in r.headers, (what, url)
            if not url.startswith('/v2/'):
                assert_error_shape(r, url)
        r = w.http.get(w.cloud.auth_url + '/auth/tokens',
                       headers={'X-Auth-Token': w.admin, 'X-Subject-Token': token})
        assert r.status_code == 404, (what, r.status_code, r.text)
    # Nothing was done with them: A's server and the good token still work.
    _call(w, w.a, 'GET', '/compute/v2.1/servers/%s' % w.res['server_id'], expect=200)
