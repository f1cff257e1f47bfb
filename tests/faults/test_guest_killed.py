"""Scenario 3 (issue 16), a guest killed behind the agent's back: its QEMU
process gets SIGKILL, not from the cloud. The server goes SHUTOFF within
the power sync's interval (as Nova's power sync does), the invariants
hold (no claim freed, no device lost), it starts again from the API, and
once deleted nothing is left."""

import os
import signal
import subprocess
import time

import pytest

from tests.faults import invariants
from tests.fixtures.servers import wait_cli_status
from tests.functional.cloud import LocalCloud

SYNC = 3  # [compute] sync_power_state_interval here (10 s by default)
# The named convergence time: SHUTOFF within two syncs and a call's slack.
SHUTOFF_WITHIN = 2 * SYNC + 20


@pytest.fixture(scope='module')
def cloud():
    with LocalCloud(extra_conf='[compute]\nsync_power_state_interval = %d\n' % SYNC) as c:
        c.upload_tiny_image()
        yield c


def _qemu_pids(server_id):
    r = subprocess.run(['pgrep', '-f', 'guest=altostack-%s' % server_id],
                       capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def test_a_guest_killed_behind_the_agent_goes_shutoff_and_starts_again(cloud, capsys):
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.nano', '--nic', 'none', '--wait', 'killed-vm', cloud='demo',
                          json_out=True)
    pids = _qemu_pids(srv['id'])
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    t0 = time.monotonic()
    shown = wait_cli_status(cloud, 'killed-vm', 'SHUTOFF', timeout=SHUTOFF_WITHIN)
    shutoff_s = time.monotonic() - t0
    assert shown['OS-EXT-STS:power_state'] in ('Shutdown', 4), shown
    assert shown['OS-EXT-STS:task_state'] is None, shown
    figures = invariants.check(cloud)
    # started again from the API: the same guest, running
    cloud.openstack('server', 'start', 'killed-vm', cloud='demo')
    wait_cli_status(cloud, 'killed-vm', 'ACTIVE', timeout=120)
    assert len(_qemu_pids(srv['id'])) == 1
    cloud.openstack('server', 'delete', '--wait', 'killed-vm', cloud='demo')
    after = invariants.check(cloud)
    with capsys.disabled():
        print('\nguest killed: SHUTOFF after %.1f s (bound %d s); invariants converged in '
              '%.1f s, after the delete in %.1f s' % (
                  shutoff_s, SHUTOFF_WITHIN, figures['converged_s'], after['converged_s']))
