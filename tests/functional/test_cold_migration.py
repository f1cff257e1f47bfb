"""Cold migration and resize to another host, on two hosts (devstack/lib/
hosts.sh) through the real openstack CLI with real TCG guests: the disk
travels over NBD from one host's instance dir to the other's (they share
nothing), the guest boots there with what it wrote before, takes its DHCP
address from the new host, and confirm, revert, delete and a destination
that fails leave each host's libvirt, disk and records right.

The cloud says allow_resize_to_same_host = false, so a resize goes to the
other host too, and migration_copy_timeout = 40: a destination whose agent
is away gives the server back to its source within that.
"""

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from tests.fixtures import bus
from tests.fixtures.servers import api
from tests.fixtures.servers import assert_guest_has
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('libvirtd'),
    reason='needs root, nsenter and libvirtd')

MARK_SECTOR = 1024 * 1024  # x 512 bytes: 512 MiB into vda, past the boot partition
# user-data runs at every boot: it shows what the disk held, then marks it,
# and tells the guest's size.
SCRIPT = ('#!/bin/sh\n'
          'echo "found=$(dd if=/dev/vda bs=512 skip={sector} count=1 2>/dev/null '
          '| head -c {n})"\n'
          "printf '%s\\n' '{marker}' | dd of=/dev/vda bs=512 seek={sector} conv=notrunc "
          '2>/dev/null\nsync\necho marker-written-$((40+2))\n'
          'echo "SIZE-PROBE cpus=$(grep -c ^processor /proc/cpuinfo) '
          'memkb=$(grep MemTotal /proc/meminfo | tr -s \' \' | cut -d\' \' -f2)"\n')
PROBE_RE = re.compile(r'SIZE-PROBE cpus=(\d+) memkb=(\d+)')


@pytest.fixture(scope='module')
def mcloud():
    # service_down_time 30: a host whose agent just stopped is still
    # chosen, so a test can send a server to an agent that is away.
    with cloud_mod.LocalCloud(extra_hosts=1, service_down_time=30,
                              extra_conf='[DEFAULT]\n'
                              'allow_resize_to_same_host = false\n'
                              'migration_copy_timeout = 40\n') as c:
        yield c


@pytest.fixture(scope='module')
def image(mcloud):
    return mcloud.upload_tiny_image()


def boot_on(mcloud, n, *args):
    """Create a server on host n (the other host's service disabled
    meanwhile: a server pinned by an availability zone could not move)."""
    other = mcloud.host_name(3 - n)
    mcloud.openstack('compute', 'service', 'set', '--disable', other, 'nova-compute')
    try:
        return mcloud.openstack('server', 'create', '--image', 'altostack-tiny', *args,
                                '--wait', cloud='demo', json_out=True)['id']
    finally:
        mcloud.openstack('compute', 'service', 'set', '--enable', other, 'nova-compute')


def domains(uri):
    """{domain name: state} of a host's libvirtd."""
    r = subprocess.run(['virsh', '-q', '-c', uri, 'list', '--all'], capture_output=True,
                       text=True, timeout=30, check=True)
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2].strip()
    return out


def dominfo(mcloud, n, sid):
    out = subprocess.run(['virsh', '-c', mcloud.host_uri(n), 'dominfo', 'altostack-%s' % sid],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    info = dict(line.split(':', 1) for line in out.splitlines() if ':' in line)
    return int(info['CPU(s)'].strip()), int(info['Max memory'].split()[0])


def instance_dir(mcloud, n, sid):
    if n == 1:
        return os.path.join(mcloud.workdir, 'instances', sid)
    return os.path.join(mcloud.workdir, 'hosts', 'host%d' % n, 'instances', sid)


def usage(mcloud):
    """{host n: (vcpus_used, memory_mb_used)} from the hypervisors' records."""
    r = api(mcloud, 'GET', '/os-hypervisors/detail', cloud_name='admin')
    assert r.status_code == 200, r.text
    by_ip = {h['host_ip']: h for h in r.json()['hypervisors']}
    return {n: (by_ip['%s.%d' % (mcloud.hosts_subnet, n)]['vcpus_used'],
                by_ip['%s.%d' % (mcloud.hosts_subnet, n)]['memory_mb_used'])
            for n in (1, 2)}


def where(mcloud, sid):
    srv = mcloud.openstack('server', 'show', sid, json_out=True)
    return srv['OS-EXT-SRV-ATTR:host'], srv['status'], srv.get('fault')


def host_n(mcloud, host):
    return {mcloud.host_name(1): 1, mcloud.host_name(2): 2}[host]


def only_on(mcloud, sid, n, state='running'):
    """The guest is defined on host n only (in ``state``) and its files are
    there only."""
    dom = 'altostack-%s' % sid
    other = 3 - n
    mine, theirs = domains(mcloud.host_uri(n)), domains(mcloud.host_uri(other))
    assert mine.get(dom) == state, (n, mine)
    assert dom not in theirs, (other, theirs)
    assert os.path.exists(os.path.join(instance_dir(mcloud, n, sid), 'disk'))
    assert not os.path.exists(instance_dir(mcloud, other, sid))


def console_count(mcloud, name, text):
    return mcloud.openstack('console', 'log', 'show', name, cloud='demo').count(text)


def wait_rest(mcloud, sid, timeout=120):
    conn = mcloud.sdk('admin')
    deadline = time.monotonic() + timeout
    while True:
        srv = conn.compute.get_server(sid)
        if srv.task_state is None and srv.status not in ('RESIZE', 'BUILD'):
            return srv
        assert time.monotonic() < deadline, (srv.status, srv.task_state)
        time.sleep(0.5)


def wait_running(mcloud, n, dom, timeout=30):
    """The records say ACTIVE before the source starts its guest again (they
    decide who won first), so the guest may still be starting."""
    deadline = time.monotonic() + timeout
    while domains(mcloud.host_uri(n)).get(dom) != 'running':
        assert time.monotonic() < deadline, domains(mcloud.host_uri(n))
        time.sleep(0.5)


def test_migrate_confirm_revert_resize_and_delete_across_hosts(mcloud, image, tmp_path):
    mcloud.openstack('network', 'create', 'cm-net', cloud='demo')
    mcloud.openstack('subnet', 'create', '--network', 'cm-net', '--subnet-range',
                     '10.62.0.0/24', 'cm-sub', cloud='demo')
    mcloud.openstack('flavor', 'create', '--vcpus', '2', '--ram', '768', '--disk', '1',
                     'cm.2cpu')
    base = usage(mcloud)
    marker = 'CMMARK-%s' % uuid.uuid4().hex[:12]
    script = tmp_path / 'mark.sh'
    script.write_text(SCRIPT.format(sector=MARK_SECTOR, n=len(marker), marker=marker))
    sid = boot_on(mcloud, 1, '--flavor', 'm1.tiny', '--network', 'cm-net', '--user-data',
                  str(script), 'cm-vm1')
    wait_console(mcloud, 'cm-vm1', 'marker-written-42', timeout=240)
    only_on(mcloud, sid, 1)
    assert usage(mcloud) == {1: (base[1][0] + 1, base[1][1] + 512), 2: base[2]}

    # Migrate: the guest boots on host 2 from the copied disk, finds its
    # marker, takes its address from host 2's DHCP; both hosts hold it.
    t0 = time.monotonic()
    mcloud.openstack('server', 'migrate', '--wait', sid)
    print('migrate: VERIFY_RESIZE after %.1f s' % (time.monotonic() - t0))
    host, status, _fault = where(mcloud, sid)
    assert (host, status) == (mcloud.host_name(2), 'VERIFY_RESIZE')
    dom = 'altostack-%s' % sid
    assert domains(mcloud.host_uri(2))[dom] == 'running'
    assert domains(mcloud.host_uri(1))[dom] == 'shut off'
    out = wait_console(mcloud, 'cm-vm1', 'ALTOSTACK-READY', timeout=240)
    out = wait_console(mcloud, 'cm-vm1', 'marker-written-42', timeout=120)
    assert 'found=%s' % marker in out, out[-2000:]
    assert 'source=dhcp' in out, out[-2000:]
    assert usage(mcloud) == {1: (base[1][0] + 1, base[1][1] + 512),
                             2: (base[2][0] + 1, base[2][1] + 512)}
    mig_events = mcloud.openstack('server', 'event', 'list', sid, json_out=True)
    assert mig_events[0]['Action'] == 'migrate', mig_events

    mcloud.openstack('server', 'resize', 'confirm', sid, cloud='demo')
    wait_server(mcloud.sdk('demo'), sid, {'ACTIVE'}, timeout=60)
    only_on(mcloud, sid, 2)
    assert usage(mcloud) == {1: base[1], 2: (base[2][0] + 1, base[2][1] + 512)}
    migs = mcloud.openstack('server', 'migration', 'list', '--server', sid, json_out=True)
    assert [(m['Status'], m['Source Compute'], m['Dest Compute']) for m in migs] == [
        ('confirmed', mcloud.host_name(1), mcloud.host_name(2))], migs

    # Migrate back to host 1, then revert: on host 2 again, host 1 clean.
    mcloud.openstack('server', 'migrate', '--wait', sid)
    assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'VERIFY_RESIZE')
    mcloud.openstack('server', 'resize', 'revert', sid, cloud='demo')
    wait_server(mcloud.sdk('demo'), sid, {'ACTIVE'}, timeout=120)
    assert where(mcloud, sid)[0] == mcloud.host_name(2)
    only_on(mcloud, sid, 2)
    assert usage(mcloud) == {1: base[1], 2: (base[2][0] + 1, base[2][1] + 512)}

    # Resize, never on the same host here: to host 1 with 2 vCPUs, 768 MB.
    before = console_count(mcloud, 'cm-vm1', 'SIZE-PROBE')
    mcloud.openstack('server', 'resize', '--flavor', 'cm.2cpu', '--wait', sid, cloud='demo')
    assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'VERIFY_RESIZE')
    assert dominfo(mcloud, 1, sid) == (2, 768 * 1024)
    deadline = time.monotonic() + 240
    while console_count(mcloud, 'cm-vm1', 'SIZE-PROBE') < 1 and time.monotonic() < deadline:
        time.sleep(2)
    out = mcloud.openstack('console', 'log', 'show', 'cm-vm1', cloud='demo')
    probes = [(int(c), int(m)) for c, m in PROBE_RE.findall(out)]
    assert probes, (before, out[-2000:])
    assert_guest_has(probes[-1], 2, 768)
    mcloud.openstack('server', 'resize', 'confirm', sid, cloud='demo')
    wait_server(mcloud.sdk('demo'), sid, {'ACTIVE'}, timeout=60)
    only_on(mcloud, sid, 1)
    assert usage(mcloud) == {1: (base[1][0] + 2, base[1][1] + 768), 2: base[2]}

    # An unknown host: 400 with Nova's message, from the API and the CLI.
    r = api(mcloud, 'POST', '/servers/%s/action' % sid, cloud_name='admin',
            json={'migrate': {'host': 'no-such-host'}})
    assert r.status_code == 400, r.text
    assert 'Compute host no-such-host could not be found' in r.text
    r = mcloud.openstack('server', 'migrate', '--host', 'no-such-host', sid, check=False)
    assert r.returncode != 0 and 'could not be found' in r.stderr, r.stderr
    # Not the admin's: 403 (Nova's default policy).
    r = api(mcloud, 'POST', '/servers/%s/action' % sid, json={'migrate': None})
    assert r.status_code == 403, r.text

    # A destination that fails (a stale file where the instance dir goes):
    # the server is ACTIVE on host 1 again, with a fault; no claim left on 2.
    blocker = instance_dir(mcloud, 2, sid)
    with open(blocker, 'w') as f:
        f.write('in the way\n')
    try:
        mcloud.openstack('server', 'migrate', '--wait', sid, check=False)
        wait_rest(mcloud, sid)
        host, status, fault = where(mcloud, sid)
        assert (host, status) == (mcloud.host_name(1), 'ACTIVE'), (host, status, fault)
        events = mcloud.openstack('server', 'event', 'list', sid, json_out=True)
        assert events[0]['Action'] == 'migrate', events
        detail = mcloud.openstack('server', 'event', 'show', sid, events[0]['Request ID'],
                                  json_out=True)
        results = {e['event']: e['result'] for e in detail['events']}
        assert results['compute_resize_instance'] == 'Error', results
        assert results['compute_finish_resize'] == 'Error', results
    finally:
        os.unlink(blocker)
    assert domains(mcloud.host_uri(1))[dom] == 'running'
    assert dom not in domains(mcloud.host_uri(2))
    assert usage(mcloud) == {1: (base[1][0] + 2, base[1][1] + 768), 2: base[2]}

    # Deleted while waiting in VERIFY_RESIZE: nothing left on either host.
    mcloud.openstack('server', 'migrate', '--wait', sid)
    assert where(mcloud, sid)[:2] == (mcloud.host_name(2), 'VERIFY_RESIZE')
    mcloud.openstack('server', 'delete', '--wait', sid, cloud='demo')
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
            dom in domains(mcloud.host_uri(1)) or dom in domains(mcloud.host_uri(2))):
        time.sleep(0.5)
    for n in (1, 2):
        assert dom not in domains(mcloud.host_uri(n)), n
        assert not os.path.exists(instance_dir(mcloud, n, sid)), n
    assert usage(mcloud) == base


def test_a_stopped_server_migrates_stopped_to_the_host_named(mcloud, image):
    base = usage(mcloud)
    sid = boot_on(mcloud, 2, '--flavor', 'm1.nano', '--nic', 'none', 'cm-off')
    mcloud.openstack('server', 'stop', sid, cloud='demo')
    wait_server(mcloud.sdk('demo'), sid, {'SHUTOFF'}, timeout=60)
    mcloud.openstack('server', 'migrate', '--host', mcloud.host_name(1), '--wait', sid)
    assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'VERIFY_RESIZE')
    assert domains(mcloud.host_uri(1))['altostack-%s' % sid] == 'shut off'
    mcloud.openstack('server', 'resize', 'confirm', sid, cloud='demo')
    wait_server(mcloud.sdk('demo'), sid, {'SHUTOFF'}, timeout=60)
    only_on(mcloud, sid, 1, state='shut off')
    assert usage(mcloud) == {1: (base[1][0] + 1, base[1][1] + 128), 2: base[2]}
    mcloud.openstack('server', 'delete', '--wait', sid, cloud='demo')
    assert usage(mcloud) == base


def test_a_destination_whose_agent_is_away(mcloud, image):
    base = usage(mcloud)
    sid = boot_on(mcloud, 1, '--flavor', 'm1.nano', '--nic', 'none', 'cm-away')
    dom = 'altostack-%s' % sid
    mcloud.stop_host_agent(2)
    try:
        t0 = time.monotonic()
        mcloud.openstack('server', 'migrate', sid)
        wait_rest(mcloud, sid, timeout=180)
        print('back on the source after %.1f s' % (time.monotonic() - t0))
        assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'ACTIVE')
        wait_running(mcloud, 1, dom)
        assert usage(mcloud) == {1: (base[1][0] + 1, base[1][1] + 128), 2: base[2]}
    finally:
        mcloud.start_host_agent(2)
    deadline = time.monotonic() + 60
    while mcloud.compute_services().get(mcloud.host_name(2)) != 'up':
        assert time.monotonic() < deadline, 'host 2 never came back'
        time.sleep(1)
    # Whatever waited in host 2's queue takes nothing there: once its agent
    # answers a ping sent now, it has taken every message queued before.
    bus.ping_compute(mcloud, mcloud.host_name(2))
    assert dom not in domains(mcloud.host_uri(2))
    assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'ACTIVE')
    mcloud.openstack('server', 'delete', '--wait', sid, cloud='demo')
    assert usage(mcloud) == base


def test_a_source_agent_that_restarts_mid_move_takes_the_server_back(mcloud, image):
    """Host 2's agent is away, so the move waits there; meanwhile host 1's
    agent is killed and started again: its reconcile ends the export it
    left, and the server runs on host 1 again, no resize task left."""
    base = usage(mcloud)
    sid = boot_on(mcloud, 1, '--flavor', 'm1.nano', '--nic', 'none', 'cm-restart')
    dom = 'altostack-%s' % sid
    conn = mcloud.sdk('admin')
    mcloud.stop_host_agent(2)
    try:
        mcloud.openstack('server', 'migrate', sid)
        deadline = time.monotonic() + 60
        while not (conn.compute.get_server(sid).task_state == 'resize_migrating' and
                   domains(mcloud.host_uri(1)).get(dom) == 'shut off'):
            assert time.monotonic() < deadline, conn.compute.get_server(sid).task_state
            time.sleep(0.5)
        mcloud.kill_service('compute')
        mcloud.start_service('compute')
        wait_rest(mcloud, sid, timeout=120)
        assert where(mcloud, sid)[:2] == (mcloud.host_name(1), 'ACTIVE')
        wait_running(mcloud, 1, dom)
        assert usage(mcloud) == {1: (base[1][0] + 1, base[1][1] + 128), 2: base[2]}
    finally:
        mcloud.start_host_agent(2)
    mcloud.openstack('server', 'delete', '--wait', sid, cloud='demo')
    assert usage(mcloud) == base
