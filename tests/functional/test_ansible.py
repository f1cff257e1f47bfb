"""Ansible's openstack.cloud collection drives the cloud: the playbook
tests/functional/ansible/cloud_tour.yml (network, subnet, router, security
group, keypair, volume, server twice, attach, floating IP, metadata, stop,
start, the *_info modules, identity groups and role assignments, then the
clean-up) must run without a failed task.

Ansible runs from a venv of its own, built once and cached under
ANSIBLE_VENV (pip, from PyPI), pinned: ansible 12.3.0 bundles
openstack.cloud, whose module_utils reads ``openstack.version``, which
openstacksdk stopped importing with its package after 4.5; so that venv
holds openstacksdk 4.5.0 (this env's newer one serves the other tests)."""

import fcntl
import os
import subprocess
import sys

import pytest

ANSIBLE_VENV = os.environ.get('ALTOSTACK_TEST_ANSIBLE_VENV',
                              '/var/cache/altostack/ansible-venv-12.3.0')
PINS = ('ansible==12.3.0', 'openstacksdk==4.5.0')
PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ansible',
                        'cloud_tour.yml')


def _python():
    return os.path.join(ANSIBLE_VENV, 'bin', 'python')


def _ready():
    return subprocess.run([_python(), '-c', 'import ansible_collections.openstack.cloud, '
                           'openstack.version'], capture_output=True).returncode == 0


@pytest.fixture(scope='module')
def ansible_playbook():
    os.makedirs(os.path.dirname(ANSIBLE_VENV), exist_ok=True)
    with open(ANSIBLE_VENV + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (os.path.exists(_python()) and _ready()):
            subprocess.run([sys.executable, '-m', 'venv', '--clear', ANSIBLE_VENV], check=True)
            subprocess.run([_python(), '-m', 'pip', 'install', '-q', *PINS], check=True,
                           timeout=900)
            assert _ready(), 'the Ansible venv lacks openstack.cloud or openstacksdk'
    return os.path.join(ANSIBLE_VENV, 'bin', 'ansible-playbook')


def test_the_openstack_cloud_collection_tours_the_cloud(cloud, image, ansible_playbook):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('OS_') and k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env.update(OS_CLIENT_CONFIG_FILE=cloud.clouds_path, ANSIBLE_NOCOLOR='1',
               ANSIBLE_PYTHON_INTERPRETER=_python(), ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_HOME=os.path.join(cloud.workdir, 'ansible'),
               PATH=os.path.join(ANSIBLE_VENV, 'bin') + os.pathsep + env.get('PATH', ''))
    r = subprocess.run([ansible_playbook, '-i', 'localhost,', '-c', 'local', PLAYBOOK],
                       capture_output=True, text=True, env=env, timeout=1200)
    recap = r.stdout[r.stdout.rfind('PLAY RECAP'):]
    assert r.returncode == 0 and 'failed=0' in recap, r.stdout[-6000:] + r.stderr[-2000:]
    # the clean-up left nothing behind
    servers = cloud.openstack('server', 'list', '--name', '^ans-vm$', cloud='demo',
                              json_out=True)
    assert servers == []
    assert cloud.openstack('network', 'list', '--name', 'ans-net', cloud='demo',
                           json_out=True) == []
