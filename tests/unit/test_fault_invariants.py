"""The pure parts of the faults tier's invariants (tests/faults/invariants*.py),
on records and host views made up here."""

from tests.faults import invariants as inv
from tests.faults import invariants_host as invh

SID = '11111111-2222-3333-4444-555555555555'
SID2 = '66666666-2222-3333-4444-555555555555'
PORT = 'abcdef01-2345-6789-abcd-ef0123456789'
NET = 'aaaaaaaa-0000-0000-0000-000000000001'


def server(uuid=SID, vm_state='active', task_state=None, host='h1', project='p1'):
    return {'uuid': uuid, 'display_name': 'vm', 'project_id': project, 'vm_state': vm_state,
            'task_state': task_state, 'host': host, 'node': host, 'vcpus': 1,
            'memory_mb': 64, 'root_gb': 1, 'flavor': {}, 'fault': None,
            'request_spec': {'disk_gb': 1}}


def records(**kw):
    rec = {k: [] for k in inv._QUERIES}
    rec.update(kw)
    return rec


def node(used=(1, 64, 1)):
    return {'id': 1, 'host': 'h1', 'vcpus_used': used[0], 'memory_mb_used': used[1],
            'local_gb_used': used[2]}


def alloc(consumer=SID, vcpus=1, memory_mb=64, disk_gb=1):
    return {'consumer_uuid': consumer, 'node_id': 1, 'vcpus': vcpus, 'memory_mb': memory_mb,
            'disk_gb': disk_gb}


def test_resting_records_are_not_transitional():
    rec = records(instances=[server(), server(SID2, vm_state='error', host=None)],
                  volumes=[{'id': 'v', 'name': 'v', 'status': 'available'}],
                  images=[{'id': 'i', 'name': 'i', 'status': 'queued'}],
                  migrations=[{'uuid': 'm', 'instance_uuid': SID, 'migration_type': 'resize',
                               'status': 'confirmed', 'source_compute': 'h1',
                               'dest_compute': 'h2'}])
    assert inv.transitional(rec) == []


def test_each_transitional_record_is_named():
    rec = records(instances=[server(vm_state='building', task_state='spawning'),
                             server(SID2, task_state='rebooting')],
                  volumes=[{'id': 'v1', 'name': 'x', 'status': 'attaching'}],
                  attachments=[{'id': 'a1', 'volume_id': 'v1', 'instance_uuid': SID,
                                'status': 'reserved'}],
                  images=[{'id': 'i1', 'name': 'snap', 'status': 'saving'}],
                  migrations=[{'uuid': 'm1', 'instance_uuid': SID, 'migration_type': 'resize',
                               'status': 'migrating', 'source_compute': 'h1',
                               'dest_compute': 'h2'}])
    found = '\n'.join(inv.transitional(rec))
    for name in (SID, SID2, 'v1', 'a1', 'i1', 'm1', 'spawning', 'rebooting', 'attaching'):
        assert name in found


def test_finished_migration_rests_only_while_its_server_waits_for_confirm():
    mig = {'uuid': 'm1', 'instance_uuid': SID, 'migration_type': 'resize',
           'status': 'finished', 'source_compute': 'h1', 'dest_compute': 'h1'}
    assert inv.transitional(records(instances=[server(vm_state='resized')],
                                    migrations=[mig])) == []
    assert 'm1' in inv.transitional(records(instances=[server()], migrations=[mig]))[0]


def test_claims_match_the_servers():
    assert inv.claim_problems(records(instances=[server()], nodes=[node()],
                                      allocations=[alloc()])) == []


def test_leaked_claim_and_drifted_node_are_named():
    found = inv.claim_problems(records(nodes=[node((2, 128, 2))],
                                       allocations=[alloc()]))
    assert any('leaked claim' in f and SID in f for f in found)
    assert any('vcpus_used=2 but its allocations sum to 1' in f for f in found)


def test_server_without_its_claim_or_with_the_wrong_one():
    found = inv.claim_problems(records(instances=[server()], nodes=[node((0, 0, 0))]))
    assert found == ['server %s (active) on h1 holds no claim' % SID]
    found = inv.claim_problems(records(instances=[server()], nodes=[node((2, 64, 1))],
                                       allocations=[alloc(vcpus=2)]))
    assert any('its flavor is' in f for f in found)


def test_an_error_server_without_a_host_holds_nothing():
    rec = records(instances=[server(vm_state='error', host=None)], nodes=[node((0, 0, 0))])
    assert inv.claim_problems(rec) == []


def test_quota_usage_against_the_servers():
    rec = records(instances=[server(), server(SID2)],
                  usages=[{'project_id': 'p1', 'resource': 'instances', 'in_use': 2},
                          {'project_id': 'p1', 'resource': 'cores', 'in_use': 2},
                          {'project_id': 'p1', 'resource': 'ram', 'in_use': 128}])
    assert inv.quota_problems(rec) == []
    rec['usages'][1]['in_use'] = 3
    assert inv.quota_problems(rec) == ['project p1: quota usage cores=3, what exists says 2']


def test_limits_show_against_servers_and_volumes():
    rec = records(instances=[server()],
                  volumes=[{'id': 'v', 'name': 'v', 'project_id': 'p1', 'size': 2,
                            'status': 'available'}])
    shown = [{'Name': 'totalInstancesUsed', 'Value': 1}, {'Name': 'totalRAMUsed', 'Value': 64},
             {'Name': 'totalVolumesUsed', 'Value': 1},
             {'Name': 'totalGigabytesUsed', 'Value': 3}]
    assert inv.limits_problems('p1', shown, rec) == [
        'project p1: limits show totalGigabytesUsed=3, what exists says 2']


def test_port_of_a_gone_server():
    rec = records(ports=[{'id': PORT, 'network_id': NET, 'device_id': SID,
                          'device_owner': 'compute:nova', 'host': 'h1', 'mac_address': 'm'}])
    assert SID in inv.port_problems(rec)[0]


def view(**kw):
    out = {'domains': {}, 'dirs': {}, 'links': {}, 'netns': [], 'tables': [],
           'dnsmasq': {}, 'alive': {}, 'registry': None, 'isolated': False}
    out.update(kw)
    return out


def test_guest_orphans_and_missing_devices():
    rec = records(instances=[server()],
                  ports=[{'id': PORT, 'network_id': NET, 'device_id': SID,
                          'device_owner': 'compute:nova', 'host': 'h1', 'mac_address': 'm'}])
    tap = 'tap' + PORT[:11]
    good = view(domains={SID: {'taps': [tap], 'running': True}},
                dirs={SID: ['console.log', 'disk', 'disk.config']}, links={tap: 'brq' + NET[:11]})
    assert invh.guest_problems(good, rec, 'h1') == []
    bad = view(domains={SID2: {'taps': [], 'running': True}},
               dirs={SID: ['disk.snap-1'], SID2: ['disk']})
    found = '\n'.join(invh.guest_problems(bad, rec, 'h1'))
    assert 'orphan libvirt domain altostack-%s' % SID2 in found
    assert 'orphan instance folder %s' % SID2 in found
    assert 'leftover disk.snap-1' in found
    assert 'server %s is active but has no libvirt domain' % SID in found


def test_network_registry_against_records_and_host():
    reg = {'resources': {
        'bridge:brq' + NET[:11]: {'name': 'brq' + NET[:11]},
        'dhcp:' + NET: {'host_if': 'dh-' + NET[:11], 'netns': 'qdhcp-' + NET,
                        'files': {'pid': '/s/dhcp/%s/pid' % NET}},
        'firewall': {'table': 'altostack_h1_x'}},
        'port_index': {'tap' + PORT[:11]: 1}}
    rec = records(networks=[{'id': NET, 'name': 'n'}])
    host = view(registry=reg, links={'brq' + NET[:11]: None, 'dh-' + NET[:11]: 'brq' +
                                     NET[:11], 'tapdeadbeef-00': 'brq' + NET[:11]},
                netns=['qdhcp-' + NET], alive={'/s/dhcp/%s/pid' % NET: True},
                dnsmasq={7: '/s/dhcp/%s/pid' % NET, 9: '/s/dhcp/gone/pid'},
                tables=['bridge altostack_h1_x'])
    found = '\n'.join(invh.network_problems(host, rec, 'h1', 'altostack_h1_x'))
    assert 'orphan dnsmasq (pid 9' in found
    assert 'nft table inet altostack_h1_x is missing' in found
    assert 'nft rules for tap%s' % PORT[:11] in found
    assert 'orphan device tapdeadbeef-00 on bridge brq' in found
    assert 'dnsmasq of network' not in found and 'orphan namespace' not in found
    gone = invh.network_problems(view(registry=reg, isolated=True, netns=['qrouter-x']),
                                 records(), 'h1', 't')
    assert any('dhcp of network %s, which does not exist' % NET in f for f in gone)
    assert any('orphan namespace qrouter-x' in f for f in gone)
    assert any('namespace qdhcp-%s the registry lists is missing' % NET in f for f in gone)


def test_storage_files_against_records():
    rec = records(volumes=[{'id': SID, 'name': 'v', 'status': 'available'}],
                  images=[{'id': SID2, 'name': 'i', 'status': 'active'}])
    assert invh.storage_problems(['volume-%s.qcow2' % SID, 'nbd'], [SID2], {}, rec) == []
    found = '\n'.join(invh.storage_problems(
        ['volume-%s.qcow2' % SID2, 'volume-x.qcow2.part'], ['.%s.part' % SID, PORT],
        {SID: {'connectors': ['h2']}}, rec))
    for what in ('orphan volume file volume-%s' % SID2, 'leftover volume file',
                 'volume %s is available but its file is missing' % SID,
                 'leftover image file', 'orphan image file %s' % PORT,
                 'image %s is active but its file is missing' % SID2,
                 'orphan NBD export of volume %s' % SID):
        assert what in found, what
