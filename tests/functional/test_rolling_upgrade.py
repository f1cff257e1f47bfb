"""Rolling upgrade: this checkout's control plane with the previous
release's compute agent.

The previous release is main at OLD_RELEASE, pinned by its full hash. Its
tree comes out of this repository with ``git archive`` and is installed,
not editable, into a venv of its own whose dependencies are this env's
(a .pth line naming this env's site-packages: a plain path in a .pth is not
a site dir, so this env's editable install of the new code is not loaded
there). The venv is cached under OLD_RELEASE_CACHE and reused by later runs.

The control plane runs with ``[upgrade_levels] compute`` set to the old
release's compute RPC version (its ComputeAPI.VERSION, read from the old
tree): that is what an operator sets while old agents remain, and it makes
the new API and scheduler send those agents only what they understand (a
newer call is refused with ServiceUnavailable instead of being lost on an
agent that does not know it). The old agent reports to the new scheduler
(and to whatever serves the scheduler's topic after the conductor split)
with the old release's scheduler calls, so this also checks that the new
side still answers them.

One guest through the real openstack CLI: boot, console, stop, start,
delete.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.fixtures.servers import wait_cli_status
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod

# main's 5c04bd5: the release before [upgrade_levels].
OLD_RELEASE = '5c04bd50a1b11326e6c213bf5cb8b76dbec7b8c4'
OLD_RELEASE_CACHE = os.environ.get('ALTOSTACK_TEST_OLD_RELEASE_CACHE',
                                   '/var/cache/altostack/old-releases')


def _git(*args, **kw):
    return subprocess.run(['git', '-C', cloud_mod.ROOT, *args], capture_output=True,
                          check=False, timeout=120, **kw)


def _clean_env():
    return {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


def old_release_version(topic_module):
    """The RPC VERSION of ``topic_module`` (e.g. compute/rpcapi.py) in the old tree."""
    r = _git('show', '%s:%s' % (OLD_RELEASE, topic_module), text=True)
    m = re.search(r"^\s+VERSION = '([\d.]+)'", r.stdout, re.M)
    assert m, 'no VERSION in %s of %s' % (topic_module, OLD_RELEASE)
    return m.group(1)


def _venv_runs_old_code(venv):
    r = subprocess.run([os.path.join(venv, 'bin', 'python'), '-c',
                        'import compute, common; print(compute.__file__, common.__file__)'],
                       capture_output=True, text=True, env=_clean_env(), cwd='/',
                       timeout=60)
    files = r.stdout.split()
    return r.returncode == 0 and all(f.startswith(venv + os.sep) for f in files), \
        r.stdout + r.stderr


def _build_venv(where):
    """Export OLD_RELEASE into ``where``/src and install it into ``where``/venv."""
    shutil.rmtree(where, ignore_errors=True)
    src, venv = os.path.join(where, 'src'), os.path.join(where, 'venv')
    os.makedirs(src)
    archive = subprocess.Popen(['git', '-C', cloud_mod.ROOT, 'archive', OLD_RELEASE],
                               stdout=subprocess.PIPE)
    subprocess.run(['tar', '-x', '-C', src], stdin=archive.stdout, check=True, timeout=120)
    assert archive.wait(timeout=60) == 0, 'git archive %s failed' % OLD_RELEASE
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', venv], check=True,
                   timeout=120)
    purelib = subprocess.run([os.path.join(venv, 'bin', 'python'), '-c',
                              'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = sorted({sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']})
    with open(os.path.join(purelib, 'altostack-deps.pth'), 'w') as f:
        f.write(''.join(p + '\n' for p in deps))
    subprocess.run([sys.executable, '-m', 'pip', '--python', os.path.join(venv, 'bin', 'python'),
                    'install', '--quiet', '--no-deps', '--no-build-isolation', '--no-index',
                    src], check=True, env=_clean_env(), cwd=where, timeout=600,
                   capture_output=True)
    shutil.rmtree(src)
    return venv


@pytest.fixture(scope='module')
def old_compute_venv():
    if _git('cat-file', '-e', '%s^{commit}' % OLD_RELEASE).returncode != 0:
        pytest.fail('the previous release %s is not in the repository at %s: fetch main\'s '
                    'full history (git fetch --unshallow) to run the rolling-upgrade test'
                    % (OLD_RELEASE, cloud_mod.ROOT))
    os.makedirs(OLD_RELEASE_CACHE, exist_ok=True)
    where = os.path.join(OLD_RELEASE_CACHE, OLD_RELEASE)
    ready = os.path.join(where, 'ready')
    with open(where + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = os.path.join(where, 'venv')
        if not (os.path.exists(ready) and _venv_runs_old_code(venv)[0]):
            _build_venv(where)
            ok, out = _venv_runs_old_code(venv)
            assert ok, 'the old release\'s venv does not run its own code:\n%s' % out
            open(ready, 'w').close()
    return venv


def test_old_compute_agent_under_new_control_plane(old_compute_venv):
    compute_cap = old_release_version('compute/rpcapi.py')
    conf = '[upgrade_levels]\ncompute = %s\n' % compute_cap
    with cloud_mod.LocalCloud(extra_conf=conf, compute_venv=old_compute_venv) as cloud:
        # The agent on the bus is the old release's.
        agent = cloud.procs['compute'].pid
        with open('/proc/%d/cmdline' % agent) as f:
            assert f.read().split('\0')[0].startswith(old_compute_venv), 'not the old agent'
        cloud.upload_tiny_image()
        srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                              'm1.tiny', '--nic', 'none', '--wait', 'old-agent-vm',
                              cloud='demo', json_out=True)
        assert srv['status'] == 'ACTIVE'
        wait_console(cloud, 'old-agent-vm', 'ALTOSTACK-READY', timeout=180)

        cloud.openstack('server', 'stop', 'old-agent-vm', cloud='demo')
        wait_cli_status(cloud, 'old-agent-vm', 'SHUTOFF')
        cloud.openstack('server', 'start', 'old-agent-vm', cloud='demo')
        wait_cli_status(cloud, 'old-agent-vm', 'ACTIVE')

        cloud.openstack('server', 'delete', '--wait', 'old-agent-vm', cloud='demo')
        assert cloud.openstack('server', 'list', cloud='demo', json_out=True) == []
        assert cloud.compute_services() == {cloud.host: 'up'}
