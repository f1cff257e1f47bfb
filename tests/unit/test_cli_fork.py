"""The forked openstack CLI (tests/functional/cli_fork.py) answers as the
CLI run as a process of its own: the same return code, stdout and stderr,
for a command that works, one that fails before it reaches a cloud and
one whose cloud does not answer; several at once; and switched off
(the default) it is that process."""

import concurrent.futures
import os
import subprocess

import pytest

from tests.functional import cli_fork
from tests.functional import cloud as cloud_mod

OPENSTACK = os.path.join(cloud_mod.BIN, 'openstack')
UNREACHABLE = ['--os-auth-url', 'http://127.0.0.1:9/identity/v3', '--os-username', 'u',
               '--os-password', 'p', '--os-project-name', 'p', '--os-user-domain-name',
               'Default', '--os-project-domain-name', 'Default', 'flavor', 'list']


@pytest.fixture
def forked(monkeypatch):
    """The forked CLI is off by default (cli_fork's docstring says why)."""
    monkeypatch.setenv('ALTOSTACK_TEST_CLI_FORK', '1')


def _env():
    return {k: v for k, v in os.environ.items() if not k.startswith('OS_')}


@pytest.mark.parametrize('args', [['--version'], ['help', 'server', 'show'],
                                  ['--os-cloud', 'no-such-cloud', 'token', 'issue'],
                                  UNREACHABLE], ids=['version', 'help', 'no-cloud',
                                                     'unreachable'])
def test_as_a_process_of_its_own(args, forked):
    forked = cli_fork.run([OPENSTACK, *args], _env(), timeout=120)
    alone = subprocess.run([OPENSTACK, *args], capture_output=True, text=True, env=_env(),
                           timeout=120)
    assert (forked.returncode, forked.stdout, forked.stderr) == \
        (alone.returncode, alone.stdout, alone.stderr)


def test_several_at_once(forked):
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: cli_fork.run([OPENSTACK, '--version'], _env()),
                                range(8)))
    assert {(r.returncode, r.stdout) for r in results} == {(0, 'openstack %s\n' % (
        results[0].stdout.split()[1]))}


def test_switched_off(monkeypatch):
    monkeypatch.setenv('ALTOSTACK_TEST_CLI_FORK', '0')
    calls = []
    real = subprocess.run
    monkeypatch.setattr(subprocess, 'run', lambda *a, **kw: calls.append(a) or real(*a, **kw))
    r = cli_fork.run([OPENSTACK, '--version'], _env())
    assert r.returncode == 0 and calls == [([OPENSTACK, '--version'],)]
