"""Several compute hosts on one machine (devstack/lib/hosts.sh), through the
real openstack CLI: every host is a hypervisor that is up, the scheduler
places servers on each, a guest on host 2 boots in its own libvirtd and
namespace and takes its DHCP address there, guests on two hosts reach each
other over VXLAN, and a host whose agent stops goes down and gets nothing."""

import os
import shutil
import subprocess
import time

import pytest

from tests.fixtures.hosts import domains
from tests.fixtures.netcheck import PING_SCRIPT
from tests.fixtures.netcheck import addresses
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_cli_status
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('libvirtd'),
    reason='needs root, nsenter and libvirtd')

EXTRA_HOSTS = 2


@pytest.fixture(scope='module')
def mcloud():
    with cloud_mod.LocalCloud(extra_hosts=EXTRA_HOSTS) as c:
        yield c


@pytest.fixture(scope='module')
def mimage(mcloud):
    return mcloud.upload_tiny_image()


@pytest.fixture(scope='module')
def zones(mcloud):
    """One availability zone per host (zone-h1, zone-h2, ...), so a test
    chooses where a server goes."""
    for n in range(1, EXTRA_HOSTS + 2):
        mcloud.openstack('aggregate', 'create', '--zone', 'zone-h%d' % n, 'agg-h%d' % n)
        mcloud.openstack('aggregate', 'add', 'host', 'agg-h%d' % n, mcloud.host_name(n))
    return ['zone-h%d' % n for n in range(1, EXTRA_HOSTS + 2)]


def test_every_host_is_a_hypervisor_that_is_up(mcloud):
    names = [mcloud.host_name(n) for n in range(1, EXTRA_HOSTS + 2)]
    hyps = mcloud.openstack('hypervisor', 'list', '--long', json_out=True)
    # Each host has its own address on the hosts' network (host 1: .1) and
    # its libvirtd's hostname (host 1: the machine's; host N: its name).
    by_ip = {h['Host IP']: h for h in hyps}
    for n in range(1, EXTRA_HOSTS + 2):
        hyp = by_ip['%s.%d' % (mcloud.hosts_subnet, n)]
        assert hyp['State'] == 'up', hyps
        if n > 1:
            assert hyp['Hypervisor Hostname'] == names[n - 1]
    services = mcloud.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                                json_out=True)
    assert sorted(s['Host'] for s in services) == sorted(names)
    assert all(s['State'] == 'up' and s['Status'] == 'enabled' for s in services), services
    # Each libvirtd is its own: own hostname, own host UUID.
    uuids = set()
    for n in range(1, EXTRA_HOSTS + 2):
        uri = mcloud.host_uri(n)
        if n > 1:
            host = subprocess.run(['virsh', '-c', uri, 'hostname'], capture_output=True,
                                  text=True, check=True).stdout.strip()
            assert host == names[n - 1]
        caps = subprocess.run(['virsh', '-c', uri, 'capabilities'], capture_output=True,
                              text=True, check=True).stdout
        uuids.add(caps.split('<uuid>')[1].split('</uuid>')[0])
    assert len(uuids) == EXTRA_HOSTS + 1
    print('hosts up in %s s' % {n: round(s, 1) for n, s in mcloud.host_seconds.items()})


def test_guests_on_two_hosts_boot_get_dhcp_and_ping_over_vxlan(mcloud, mimage, zones,
                                                                tmp_path):
    mcloud.openstack('network', 'create', 'mh-net', cloud='demo')
    mcloud.openstack('subnet', 'create', '--network', 'mh-net', '--subnet-range',
                     '10.61.0.0/24', 'mh-sub', cloud='demo')
    mcloud.openstack('port', 'create', '--network', 'mh-net', '--fixed-ip',
                     'subnet=mh-sub,ip-address=10.61.0.50', 'mh-p1', cloud='demo')
    t0 = time.monotonic()
    mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                     '--port', 'mh-p1', '--availability-zone', zones[0], 'mh-vm1',
                     cloud='demo')
    mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor', 'm1.tiny',
                     '--network', 'mh-net', '--availability-zone', zones[1], '--user-data',
                     user_data(tmp_path, 'ping.sh',
                               PING_SCRIPT.format(target='10.61.0.50', tries=40)),
                     '--wait', 'mh-vm2', cloud='demo')
    # mh-vm1 went without --wait: its host may still be spawning it.
    wait_cli_status(mcloud, 'mh-vm1', 'ACTIVE')
    where = {}
    for name in ('mh-vm1', 'mh-vm2'):
        sid = mcloud.openstack('server', 'show', name, '-c', 'id', '-f', 'value',
                               cloud='demo').strip()
        srv = mcloud.openstack('server', 'show', sid, json_out=True)
        where[name] = (srv['OS-EXT-SRV-ATTR:host'], srv['id'])
    assert where['mh-vm1'][0] == mcloud.host_name(1)
    assert where['mh-vm2'][0] == mcloud.host_name(2)
    # Each guest runs in its own host's libvirtd, and only there.
    vm1_dom, vm2_dom = ('altostack-%s' % where[n][1] for n in ('mh-vm1', 'mh-vm2'))
    on1, on2 = domains(mcloud.host_uri(1)), domains(mcloud.host_uri(2))
    assert vm2_dom in on2 and vm2_dom not in on1
    assert vm1_dom in on1 and vm1_dom not in on2
    # Its qemu and its tap live in host 2's network namespace.
    links = mcloud.host_exec(2, 'ip', '-br', 'link').stdout
    tap = [line.split()[0] for line in links.splitlines() if line.startswith('tap')]
    assert tap, links

    out2 = wait_console(mcloud, 'mh-vm2', 'ALTOSTACK-READY', timeout=240)
    vm2_ip = addresses(mcloud, 'mh-vm2', 'demo')['mh-net'][0]
    assert 'source=dhcp' in out2 and ' %s/24 ' % vm2_ip in out2, out2[-1500:]
    wait_console(mcloud, 'mh-vm1', 'ALTOSTACK-READY', timeout=240)
    # Same network, same default group, two hosts: the VXLAN carries it.
    out2 = wait_console(mcloud, 'mh-vm2', 'PING-RESULT', timeout=120)
    print('two guests on two hosts ready and pinging after %.1f s' % (time.monotonic() - t0))
    assert 'PING-RESULT 10.61.0.50 reached' in out2, out2[-1500:]
    # Host 2's DHCP namespace is in host 2's namespaces, not on host 1.
    net_id = mcloud.openstack('network', 'show', 'mh-net', '-c', 'id', '-f', 'value',
                              cloud='demo').strip()
    assert 'qdhcp-%s' % net_id in mcloud.host_exec(2, 'ip', 'netns', 'list').stdout

    mcloud.openstack('server', 'delete', '--wait', 'mh-vm1', 'mh-vm2', cloud='demo')
    until(lambda: vm2_dom not in domains(mcloud.host_uri(2)), 30, 'the guest gone on host 2')
    mcloud.openstack('port', 'delete', 'mh-p1', cloud='demo')
    mcloud.openstack('network', 'delete', 'mh-net', cloud='demo')


def test_a_host_whose_agent_stops_goes_down_and_gets_nothing(mcloud, mimage, zones):
    name = mcloud.host_name(2)
    mcloud.stop_host_agent(2)
    try:
        until(lambda: mcloud.compute_services().get(name) == 'down', 30,
              '%s down in the service list' % name)
        services = mcloud.openstack('compute', 'service', 'list', '--service',
                                    'nova-compute', json_out=True)
        state = {s['Host']: s['State'] for s in services}
        assert state[name] == 'down' and state[mcloud.host_name(1)] == 'up', state
        # Its zone has no other host: a server there finds none.
        mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                         'm1.tiny', '--nic', 'none', '--availability-zone', zones[1],
                         'mh-nohost', cloud='demo')
        until(lambda: mcloud.openstack('server', 'show', 'mh-nohost', cloud='demo',
                                       json_out=True)['status'] == 'ERROR', 60,
              'mh-nohost in ERROR')
        fault = mcloud.openstack('server', 'show', 'mh-nohost', cloud='demo',
                                 json_out=True).get('fault')
        assert fault and name in str(fault), fault
        mcloud.openstack('server', 'delete', '--wait', 'mh-nohost', cloud='demo')
    finally:
        mcloud.start_host_agent(2)
    until(lambda: mcloud.compute_services().get(name) == 'up', 60, '%s up again' % name)


def test_snapshot_pause_suspend_and_lock_of_a_guest_on_another_host(mcloud, mimage, tmp_path):
    """An admin places servers by host ('nova:HOST'); a guest on host 3
    pauses, suspends and locks in host 3's libvirtd, its snapshot goes to
    the image service from there and boots on host 2 with its data."""
    from tests.fixtures.servers import read_script
    from tests.fixtures.servers import write_script
    host3, host2 = mcloud.host_name(3), mcloud.host_name(2)
    marker = 'MHSNAP-%d' % os.getpid()
    srv = mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--nic', 'none', '--availability-zone', 'nova:' + host3,
                           '--user-data', write_script(tmp_path / 'w.sh', marker), '--wait',
                           'mh-snap1', json_out=True)
    assert srv['OS-EXT-SRV-ATTR:host'] == host3
    dom = 'altostack-%s' % srv['id']
    wait_console(mcloud, 'mh-snap1', 'marker-written-42', timeout=240, cloud_name='admin')
    virsh3 = ['virsh', '-c', mcloud.host_uri(3), 'domstate', dom]

    def state():
        return subprocess.run(virsh3, capture_output=True, text=True).stdout.strip()
    for action, status, dom_state in (('pause', 'PAUSED', 'paused'),
                                      ('unpause', 'ACTIVE', 'running'),
                                      ('suspend', 'SUSPENDED', 'shut off'),
                                      ('resume', 'ACTIVE', 'running')):
        mcloud.openstack('server', action, 'mh-snap1')
        until(lambda s=status: mcloud.openstack('server', 'show', 'mh-snap1',
                                                json_out=True)['status'] == s, 120, status)
        until(lambda d=dom_state: state() == d, 30, 'host 3 says %s' % dom_state)
    mcloud.openstack('server', 'lock', 'mh-snap1')
    assert mcloud.openstack('server', 'show', 'mh-snap1', json_out=True)['locked'] is True
    mcloud.openstack('server', 'unlock', 'mh-snap1')

    mcloud.openstack('server', 'image', 'create', '--name', 'mh-snap-img', '--wait',
                     'mh-snap1')
    assert mcloud.openstack('image', 'show', 'mh-snap-img', json_out=True)['status'] == \
        'active'
    srv2 = mcloud.openstack('server', 'create', '--image', 'mh-snap-img', '--flavor',
                            'm1.tiny', '--nic', 'none', '--availability-zone', 'nova:' + host2,
                            '--user-data', read_script(tmp_path / 'r.sh', len(marker)),
                            '--wait', 'mh-snap2', json_out=True)
    assert srv2['OS-EXT-SRV-ATTR:host'] == host2
    out = wait_console(mcloud, 'mh-snap2', 'found=', timeout=240, cloud_name='admin')
    assert 'found=%s' % marker in out, out[-1500:]
    mcloud.openstack('server', 'delete', '--wait', 'mh-snap1', 'mh-snap2')
    mcloud.openstack('image', 'delete', 'mh-snap-img')
