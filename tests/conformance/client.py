"""A thin HTTP client for the conformance cases: the endpoints of a
LocalCloud, an admin token, microversion headers, and the resources the
samples' requests are pointed at (made once per session)."""

import json
import time
import uuid

import requests

from tests.functional import cloud as cloud_mod


class Client:
    def __init__(self, cloud):
        self.cloud = cloud
        api = 'http://127.0.0.1:%d' % cloud.api_port
        self.session = requests.Session()
        self.token, body = self.issue_token()
        project_id = body['token']['project']['id']
        self.bases = {
            'compute_root': api + '/compute', 'compute': api + '/compute/v2.1',
            'volume_root': api + '/volume', 'volume': api + '/volume/v3/' + project_id,
            'identity_root': api + '/identity', 'identity': api + '/identity/v3',
            'image': 'http://127.0.0.1:%d' % cloud.image_port,
            'network_root': api + '/network', 'network': api + '/network/v2.0',
        }
        self.project_id = project_id
        self.user_id = body['token']['user']['id']
        self.demo_token = self.issue_token('demo', cloud_mod.DEMO_PASSWORD)[0]

    def issue_token(self, who='admin', password=cloud_mod.ADMIN_PASSWORD):
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': who, 'domain': {'id': 'default'}, 'password': password}}},
            'scope': {'project': {'name': who, 'domain': {'id': 'default'}}}}}
        r = requests.post(self.cloud.auth_url + '/auth/tokens', json=body, timeout=30)
        r.raise_for_status()
        return r.headers['X-Subject-Token'], r.json()

    def call(self, service, method, path, body=None, version='', base=None, headers=None,
             token=True, raw=None):
        """token: True (admin), 'demo', or False (none)."""
        url = self.bases[base or service] + path
        hdrs = {'Accept': 'application/json'}
        if token:
            hdrs['X-Auth-Token'] = self.demo_token if token == 'demo' else self.token
        if version and service == 'compute':
            hdrs['OpenStack-API-Version'] = 'compute %s' % version
            hdrs['X-OpenStack-Nova-API-Version'] = version
        elif version and service == 'volume':
            hdrs['OpenStack-API-Version'] = 'volume %s' % version
        data = raw
        if body is not None or (raw is None and method in ('POST', 'PUT', 'PATCH')):
            data = json.dumps(body)
            hdrs['Content-Type'] = 'application/json'
        hdrs.update(headers or {})
        return self.session.request(method, url, data=data, headers=hdrs, timeout=120)

    def ok(self, service, method, path, body=None, **kw):
        r = self.call(service, method, path, body, **kw)
        if r.status_code >= 400:
            raise AssertionError('%s %s -> %d %s' % (method, path, r.status_code, r.text[:500]))
        return r.json() if r.content else None

    def wait_server(self, server_id, status, timeout=120):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.ok('compute', 'GET', '/servers/%s' % server_id)['server']
            if last['status'] == status and not last.get('OS-EXT-STS:task_state'):
                return last
            if last['status'] == 'ERROR' and status != 'ERROR':
                raise AssertionError('server %s went to ERROR: %s' % (server_id,
                                                                      last.get('fault')))
            time.sleep(0.3)
        raise TimeoutError('server %s is %s, not %s' % (server_id, last and last['status'],
                                                         status))

    def wait_volume(self, volume_id, status, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vol = self.ok('volume', 'GET', '/volumes/%s' % volume_id)['volume']
            if vol['status'] == status:
                return vol
            time.sleep(0.3)
        raise TimeoutError('volume %s is not %s' % (volume_id, status))


def _public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def make_resources(client, image):
    """Everything the operations' paths and requests name, by name."""
    c = client
    res = {'image_id': image['id'], 'project_id': c.project_id, 'admin_user_id': c.user_id,
           'admin_password': cloud_mod.ADMIN_PASSWORD}
    flavors = c.ok('compute', 'GET', '/flavors')['flavors']
    res['flavor_id'] = next(f['id'] for f in flavors if f['name'] == 'm1.nano')
    res['resize_flavor_id'] = c.ok('compute', 'POST', '/flavors', {'flavor': {
        'name': 'conf.resize', 'ram': 160, 'vcpus': 1, 'disk': 1}})['flavor']['id']
    res['private_flavor_id'] = c.ok('compute', 'POST', '/flavors', {'flavor': {
        'name': 'conf.private', 'ram': 128, 'vcpus': 1, 'disk': 1,
        'os-flavor-access:is_public': False}})['flavor']['id']
    res['keypair_name'] = 'conf-key'
    c.ok('compute', 'POST', '/os-keypairs', {'keypair': {'name': 'conf-key',
                                                          'public_key': _public_key()}})
    projects = c.ok('identity', 'GET', '/projects')['projects']
    res['demo_project_id'] = next(p['id'] for p in projects if p['name'] == 'demo')
    nets = c.ok('network', 'GET', '/networks')['networks']
    res['network_id'] = next(n['id'] for n in nets if n['name'] == 'private')
    res['public_network_id'] = next(n['id'] for n in nets if n['name'] == 'public')
    servers = {}
    # The server the reads look at has no NIC; the one the actions change
    # has a port (security group actions need one).
    for name, networks in (('conf-server', 'none'),
                           ('conf-actions', [{'uuid': res['network_id']}])):
        servers[name] = c.ok('compute', 'POST', '/servers', {'server': {
            'name': name, 'imageRef': image['id'], 'flavorRef': res['flavor_id'],
            'networks': networks, 'key_name': 'conf-key', 'metadata': {'k': 'v'}}},
            version='2.37')['server']['id']
    res['server_id'], res['action_server_id'] = servers['conf-server'], servers['conf-actions']
    for sid in servers.values():
        c.wait_server(sid, 'ACTIVE')
    res['request_id'] = c.ok('compute', 'GET', '/servers/%s/os-instance-actions'
                             % res['server_id'])['instanceActions'][0]['request_id']
    # Volumes: one to read and snapshot, one attached, one to extend; room
    # for the ones the create samples make.
    c.ok('volume', 'PUT', '/os-quota-sets/%s' % c.project_id,
         {'quota_set': {'volumes': 100, 'gigabytes': 1000, 'snapshots': 100}})
    vols = {}
    for name in ('conf-vol', 'conf-attached', 'conf-extend'):
        vols[name] = c.ok('volume', 'POST', '/volumes', {'volume': {'name': name, 'size': 1}})[
            'volume']['id']
    for vid in vols.values():
        c.wait_volume(vid, 'available')
    res['volume_id'], res['extend_volume_id'] = vols['conf-vol'], vols['conf-extend']
    res['attached_volume_id'] = vols['conf-attached']
    c.ok('compute', 'POST', '/servers/%s/os-volume_attachments' % res['server_id'],
         {'volumeAttachment': {'volumeId': vols['conf-attached']}})
    c.wait_volume(vols['conf-attached'], 'in-use')
    res['snapshot_id'] = c.ok('volume', 'POST', '/snapshots', {'snapshot': {
        'name': 'conf-snap', 'volume_id': res['volume_id']}})['snapshot']['id']
    res['volume_type_id'] = c.ok('volume', 'GET', '/types')['volume_types'][0]['id']
    # Hosts.
    hyp = c.ok('compute', 'GET', '/os-hypervisors', version='2.53')['hypervisors'][0]
    res['hypervisor_id'] = hyp['id']
    res['hypervisor_id_legacy'] = c.ok('compute', 'GET', '/os-hypervisors')['hypervisors'][0]['id']
    res['host'] = client.cloud.host
    svcs = c.ok('compute', 'GET', '/os-services', version='2.53')['services']
    res['compute_service_id'] = next(s['id'] for s in svcs if s['binary'] == 'nova-compute')
    res['aggregate_id'] = c.ok('compute', 'POST', '/os-aggregates', {'aggregate': {
        'name': 'conf-agg'}})['aggregate']['id']
    res['server_group_id'] = c.ok('compute', 'POST', '/os-server-groups', {'server_group': {
        'name': 'conf-group', 'policies': ['anti-affinity']}})['server_group']['id']
    # Identity.
    res['scratch_project_id'] = c.ok('identity', 'POST', '/projects', {'project': {
        'name': 'conf-scratch', 'domain_id': 'default'}})['project']['id']
    res['scratch_user_id'] = c.ok('identity', 'POST', '/users', {'user': {
        'name': 'conf-user', 'domain_id': 'default', 'password': 'pw'}})['user']['id']
    # A user with no default project: its unscoped token stays unscoped.
    res['unscoped_user_id'] = c.ok('identity', 'POST', '/users', {'user': {
        'name': 'conf-unscoped', 'domain_id': 'default', 'password': 'pw'}})['user']['id']
    roles = c.ok('identity', 'GET', '/roles')['roles']
    res['role_id'] = next(r['id'] for r in roles if r['name'] == 'member')
    # A group with a member and roles on a project and a domain.
    for key in ('group_id', 'scratch_group_id'):
        res[key] = c.ok('identity', 'POST', '/groups', {'group': {
            'name': 'conf-' + key, 'domain_id': 'default'}})['group']['id']
    c.ok('identity', 'PUT', '/groups/%s/users/%s' % (res['group_id'], res['scratch_user_id']))
    for target in ('/projects/%s' % c.project_id, '/domains/default'):
        c.ok('identity', 'PUT', '%s/groups/%s/roles/%s' % (target, res['group_id'],
                                                           res['role_id']))
    c.ok('identity', 'PUT', '/domains/default/users/%s/roles/%s' % (c.user_id, res['role_id']))
    res['identity_service_id'] = c.ok('identity', 'GET', '/services')['services'][0]['id']
    res['endpoint_id'] = c.ok('identity', 'GET', '/endpoints')['endpoints'][0]['id']
    res['scratch_domain_id'] = c.ok('identity', 'POST', '/domains', {'domain': {
        'name': 'conf-domain'}})['domain']['id']
    res['scratch_role_id'] = c.ok('identity', 'POST', '/roles', {'role': {
        'name': 'conf-role'}})['role']['id']
    res['scratch_region_id'] = c.ok('identity', 'POST', '/regions', {'region': {
        'id': 'conf-region'}})['region']['id']
    res['scratch_service_id'] = c.ok('identity', 'POST', '/services', {'service': {
        'type': 'conf', 'name': 'conf'}})['service']['id']
    res['scratch_endpoint_id'] = c.ok('identity', 'POST', '/endpoints', {'endpoint': {
        'service_id': res['scratch_service_id'], 'interface': 'public',
        'url': 'http://127.0.0.1:1/conf', 'region_id': 'RegionOne'}})['endpoint']['id']
    # Images.
    for key, extra in (('scratch_image_id', {}), ('shared_image_id', {'visibility': 'shared'})):
        res[key] = c.ok('image', 'POST', '/v2/images', dict(
            {'name': key, 'disk_format': 'qcow2', 'container_format': 'bare'}, **extra))['id']
    # Networks.
    res['extensions'] = {e['alias'] for e in c.ok('network', 'GET', '/extensions')['extensions']}
    res['subnet_id'] = c.ok('network', 'GET', '/subnets?network_id=%s'
                            % res['network_id'])['subnets'][0]['id']
    res['scratch_network_id'] = c.ok('network', 'POST', '/networks', {'network': {
        'name': 'conf-net'}})['network']['id']
    res['scratch_subnet_id'] = c.ok('network', 'POST', '/subnets', {'subnet': {
        'network_id': res['scratch_network_id'], 'cidr': '10.212.0.0/24',
        'ip_version': 4}})['subnet']['id']
    res['port_id'] = c.ok('network', 'POST', '/ports', {'port': {
        'network_id': res['scratch_network_id'], 'name': 'conf-port'}})['port']['id']
    sgs = c.ok('network', 'GET', '/security-groups?project_id=%s' % c.project_id)
    default = next(g for g in sgs['security_groups'] if g['name'] == 'default')
    res['secgroup_id'] = default['id']
    res['secgroup_rule_id'] = default['security_group_rules'][0]['id']
    res['scratch_secgroup_id'] = c.ok('network', 'POST', '/security-groups', {
        'security_group': {'name': 'conf-sg'}})['security_group']['id']
    res['public_subnet_id'] = c.ok('network', 'GET', '/subnets?network_id=%s'
                                   % res['public_network_id'])['subnets'][0]['id']
    for key in ('router_port_id', 'router_port2_id'):
        res[key] = c.ok('network', 'POST', '/ports', {'port': {
            'network_id': res['scratch_network_id'], 'name': key}})['port']['id']
    for key in ('router_id', 'scratch_router_id', 'route_router_id'):
        res[key] = c.ok('network', 'POST', '/routers', {'router': {
            'name': 'conf-' + key}})['router']['id']
    for key in ('router_id', 'route_router_id'):
        c.ok('network', 'PUT', '/routers/%s' % res[key], {'router': {
            'external_gateway_info': {'network_id': res['public_network_id']}}})
    # Extra routes need a next hop on a subnet of the router.
    route_net = c.ok('network', 'POST', '/networks', {'network': {
        'name': 'conf-route-net'}})['network']['id']
    route_subnet = c.ok('network', 'POST', '/subnets', {'subnet': {
        'network_id': route_net, 'cidr': '10.214.0.0/24', 'ip_version': 4}})['subnet']['id']
    c.ok('network', 'PUT', '/routers/%s/add_router_interface' % res['route_router_id'],
         {'subnet_id': route_subnet})
    # A port behind that router, for a floating IP to point at.
    res['fip_port_id'] = c.ok('network', 'POST', '/ports', {'port': {
        'network_id': route_net, 'name': 'conf-fip-port'}})['port']['id']
    res['unscoped_token'] = c.call('identity', 'POST', '/auth/tokens', {'auth': {'identity': {
        'methods': ['password'], 'password': {'user': {
            'id': res['unscoped_user_id'], 'password': 'pw'}}}}}, token=False).headers[
        'X-Subject-Token']
    res['floatingip_id'] = c.ok('network', 'POST', '/floatingips', {'floatingip': {
        'floating_network_id': res['public_network_id']}})['floatingip']['id']
    return res


def fresh():
    return uuid.uuid4().hex[:8]
