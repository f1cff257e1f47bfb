"""deploy/ansible and the one-node-per-machine functions of devstack/lib it
calls, without starting anything: the files they write and the playbook's
shape (tests/multinode/test_deploy_ansible.py runs it for real)."""

import configparser
import os
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, 'deploy', 'ansible')
GROUPS = {'control', 'compute', 'storage', 'loadbalancer'}


def lib(name, *argv, env=None):
    return subprocess.run(['bash', '-c', 'source "$0" && "$@"',
                           os.path.join(ROOT, 'devstack', 'lib', '%s.sh' % name), *argv],
                          capture_output=True, text=True, check=True, timeout=30,
                          env=dict(os.environ, **(env or {})))


def test_the_galera_front_of_remote_nodes_has_one_writer_and_backups(tmp_path):
    lib('galera', 'altostack_galera_front_write', str(tmp_path), '10.9.0.5', '3306',
        'ctl1=10.9.0.2:3306', 'ctl2=10.9.0.3:3306', 'ctl3=10.9.0.4:3306')
    cfg = (tmp_path / 'haproxy.cfg').read_text()
    assert 'bind 10.9.0.5:3306' in cfg
    servers = [line.split() for line in cfg.splitlines() if line.strip().startswith('server ')]
    assert servers == [['server', 'ctl1', '10.9.0.2:3306', 'check'],
                       ['server', 'ctl2', '10.9.0.3:3306', 'check', 'backup'],
                       ['server', 'ctl3', '10.9.0.4:3306', 'check', 'backup']]
    assert os.access(tmp_path / 'check.sh', os.X_OK)
    if shutil.which('haproxy'):
        subprocess.run(['haproxy', '-c', '-q', '-f', str(tmp_path / 'haproxy.cfg')], check=True)


def test_a_galera_node_of_its_own_machine_binds_its_address_and_lists_its_peers(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('chowns to mysql')
    (tmp_path / 'tag').write_text('altostack\n')
    (tmp_path / 'host').write_text('10.9.0.3 10.9.0.2 10.9.0.3 10.9.0.4\n')
    lib('galera', '_galera_write_host_cnf', str(tmp_path))
    cnf = (tmp_path / 'n1' / 'my.cnf').read_text()
    for line in ('bind-address=10.9.0.3', 'port=3306', 'wsrep_node_address=10.9.0.3:4567',
                 'wsrep_cluster_address=gcomm://10.9.0.2:4567,10.9.0.3:4567,10.9.0.4:4567',
                 'wsrep_sst_receive_address=10.9.0.3:4444', 'wsrep_cluster_name=altostack'):
        assert line in cnf.splitlines(), line


def test_the_image_front_checks_connections_only(tmp_path):
    lib('api_front', 'altostack_api_front_write', str(tmp_path), '10.9.0.5', '9292',
        'ctl1=10.9.0.2:9292', env={'ALTOSTACK_FRONT_HTTPCHK': ''})
    assert 'httpchk' not in (tmp_path / 'haproxy.cfg').read_text()
    lib('api_front', 'altostack_api_front_write', str(tmp_path), '10.9.0.5', '8080',
        'ctl1=10.9.0.2:8080')
    assert 'option httpchk GET /healthcheck' in (tmp_path / 'haproxy.cfg').read_text()


def test_the_ceph_client_conf_names_the_cluster_and_local_keyrings_only(tmp_path):
    (tmp_path / 'ceph.conf').write_text(
        '[global]\nfsid = 1234\nmon_host = [v2:10.9.0.5:3300,v1:10.9.0.5:6789]\n'
        'auth_cluster_required = cephx\nrun_dir = /srv/ceph/run\n'
        'keyring = /srv/ceph/keys/$name.keyring\n[client]\nrbd_default_clone_format = 1\n')
    out = lib('ceph', 'altostack_ceph_client_conf', '/etc/altostack/ceph',
              env={'ALTOSTACK_CEPH_DIR': str(tmp_path)}).stdout
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(out)
    assert dict(conf['global']) == {
        'fsid': '1234', 'mon_host': '[v2:10.9.0.5:3300,v1:10.9.0.5:6789]',
        'auth_cluster_required': 'cephx', 'keyring': '/etc/altostack/ceph/$name.keyring'}
    assert conf['client']['rbd_default_clone_format'] == '1'


def _inventory_groups(path):
    groups = set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith('[') and ':' not in line:
                groups.add(line.strip('[]'))
    return groups


@pytest.mark.parametrize('inventory', ['example.ini', 'namespaces.ini'])
def test_the_example_inventories_have_the_four_groups(inventory):
    assert _inventory_groups(os.path.join(DEPLOY, 'inventory', inventory)) == GROUPS


def test_site_yml_plays_every_group_with_roles_that_exist():
    with open(os.path.join(DEPLOY, 'site.yml')) as f:
        plays = yaml.safe_load(f)
    assert {p['hosts'] for p in plays} == GROUPS | {'all'}
    for play in plays:
        for role in play['roles']:
            assert os.path.exists(os.path.join(DEPLOY, 'roles', role, 'tasks', 'main.yml')), role
            # every role sees the defaults (role defaults: the inventory overrides them)
            with open(os.path.join(DEPLOY, 'roles', role, 'meta', 'main.yml')) as f:
                assert 'altostack_defaults' in yaml.safe_load(f)['dependencies']
    # The clusters' play stops at the first node that did not join.
    clusters = [p for p in plays if p['roles'] == ['galera', 'rabbitmq']]
    assert clusters and clusters[0].get('any_errors_fatal') is True


def test_no_playbook_variables_next_to_site_yml_that_would_beat_the_inventory():
    # group_vars/ beside the playbook outranks the inventory's own variables.
    assert not os.path.exists(os.path.join(DEPLOY, 'group_vars'))


def test_site_yml_tags_each_play_with_its_roles():
    # --limit lb1 --tags loadbalancer: one load balancer's processes only.
    with open(os.path.join(DEPLOY, 'site.yml')) as f:
        plays = yaml.safe_load(f)
    for play in plays:
        assert play.get('tags') == play['roles'], play['name']


def test_keepalived_tracks_a_check_and_does_not_preempt_when_asked(tmp_path):
    # An interface of this machine (keepalived -t wants one that exists).
    iface = min((n for n in os.listdir('/sys/class/net') if n != 'lo'), default='eth0')
    args = ['altostack_keepalived_write', str(tmp_path), 'front', iface, '10.9.0.200/24',
            '51', '254', '10.9.0.5', '10.9.0.10']
    lib('keepalived', *args)
    plain = (tmp_path / 'keepalived.conf').read_text()
    assert 'track_script' not in plain and 'nopreempt' not in plain
    check = tmp_path / 'check.sh'
    check.write_text('#!/bin/sh\nexit 0\n')
    check.chmod(0o755)
    lib('keepalived', *args, env={'ALTOSTACK_KEEPALIVED_CHECK': str(check),
                                  'ALTOSTACK_KEEPALIVED_NOPREEMPT': '1'})
    cfg = (tmp_path / 'keepalived.conf').read_text()
    lines = [line.strip() for line in cfg.splitlines()]
    for line in ('script "%s"' % check, 'script_user root', 'nopreempt',
                 'altostack_front_check', 'priority 254', 'unicast_src_ip 10.9.0.5',
                 '10.9.0.10', '10.9.0.200/24 dev %s' % iface, 'fall 2'):
        assert line in lines, line
    if shutil.which('keepalived', path='/usr/sbin:/usr/bin'):
        subprocess.run(['/usr/sbin/keepalived', '-t', '-f', str(tmp_path / 'keepalived.conf')],
                       check=True, capture_output=True)


def test_the_fronts_address_is_the_vip_when_set_else_the_first_load_balancer():
    with open(os.path.join(DEPLOY, 'roles', 'altostack_defaults', 'defaults', 'main.yml')) as f:
        defaults = yaml.safe_load(f)
    assert defaults['altostack_vip'] == ''
    assert "altostack_vip.split('/')[0]" in defaults['altostack_front_ip']
    # Nothing that clients or services use names the load balancer itself.
    for role in ('controller', 'compute'):
        with open(os.path.join(DEPLOY, 'roles', role, 'templates', 'altostack.conf.j2')) as f:
            text = f.read()
        assert "groups['loadbalancer']" not in text and 'altostack_vip' not in text
