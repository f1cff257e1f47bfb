"""The cloud without Ansible (cli/node_cloud.py, conductor/cloud.py): roles
in tokens, what a controller gets once its token is accepted (and not
before), the fronts' servers, the configuration rendered from the Ansible
controller role's template. The engines and the RPC are stood in for;
tests/multinode/test_join_cloud.py runs them for real."""

import base64
import json
import os
import time

import pytest

from cli import node_admin
from cli import node_cloud
from cli import node_join
from common import join_token
from common.conf import CONF
from common.context import get_admin_context
from conductor import cloud
from conductor import manager as conductor_manager
from conductor import nodes

CLOUD = {'altostack_vip': '192.0.2.10', 'loadbalancer': 'ctl1',
         'altostack_db_password': 'DBPASSWORD', 'altostack_rabbit_password': 'BUSPASSWORD',
         'altostack_rabbit_cookie': 'COOKIE', 'altostack_image_url_key': 'ab12',
         'altostack_report_interval': 2, 'altostack_service_down_time': 10}


def _token(**kw):
    args = dict(name='n1', secret='s', controllers=['192.0.2.1'], port=5672, vhost='v',
                user='u1', password='pw', expires=int(time.time()) + 60)
    args.update(kw)
    return join_token.encode(**args)


# -- roles -------------------------------------------------------------------

def test_a_token_carries_its_role_and_old_tokens_are_compute_tokens():
    assert join_token.decode(_token(role='control'))['role'] == 'control'
    assert join_token.decode(_token())['role'] == 'compute'
    body = json.loads(base64.urlsafe_b64decode(
        _token()[len(join_token.PREFIX):] + '=='))
    del body['role']
    old = join_token.PREFIX + base64.urlsafe_b64encode(
        json.dumps(body).encode()).decode().rstrip('=')
    assert join_token.decode(old)['role'] == 'compute'


def test_a_token_with_an_unknown_role_is_damaged():
    body = json.loads(base64.urlsafe_b64decode(_token()[len(join_token.PREFIX):] + '=='))
    body['role'] = 'root'
    text = join_token.PREFIX + base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(join_token.InvalidJoinToken, match='not a role'):
        join_token.decode(text)


@pytest.mark.parametrize('role,says', [('loadbalancer', 'started the cloud'),
                                       ('bogus', 'is not a role'), ('', 'is not a role')])
def test_roles_that_cannot_join_say_why(role, says):
    with pytest.raises(join_token.InvalidRole, match=says):
        join_token.check_role(role)
    with pytest.raises(join_token.InvalidRole):
        _token(role=role)


def test_node_add_refuses_a_bad_role_before_making_anything(broker):
    with pytest.raises(node_admin.NodeCommandError, match='cannot join as'):
        node_admin.add('x1', role='loadbalancer')
    assert broker.calls == [] and nodes.get('x1') is None


def test_node_add_control_records_the_role_and_no_database_credential(broker):
    text = node_admin.add('ctl2', role='control')
    assert nodes.get('ctl2').role == 'control'
    raw = base64.urlsafe_b64decode(text[len(join_token.PREFIX):] + '==').decode()
    assert CONF.database.connection not in raw and 'sqlite' not in raw
    assert json.loads(raw)['role'] == 'control'


def test_tokens_name_the_controllers_that_joined(broker):
    nodes.record_first_control('ctl1', '192.0.2.1')
    tok = join_token.decode(node_admin.add('ctl2', role='control'))
    nodes.consume('ctl2', join_token.secret_hash(tok['secret']), '192.0.2.2')
    assert nodes.control_nodes() == [('ctl1', '192.0.2.1'), ('ctl2', '192.0.2.2')]
    assert join_token.decode(node_admin.add('cmp1'))['controllers'] == [
        '192.0.2.1', '192.0.2.2']


# -- what a controller gets ----------------------------------------------------

@pytest.fixture
def controller_files(tmp_path):
    (tmp_path / 'cloud.json').write_text(json.dumps(CLOUD))
    keys = tmp_path / 'state' / 'fernet-keys'
    keys.mkdir(parents=True)
    (keys / '0').write_text('KEY0')
    (keys / '1').write_text('KEY1')
    ceph = tmp_path / 'etc' / 'ceph'
    ceph.mkdir(parents=True)
    for f in cloud.CEPH_FILES:
        (ceph / f).write_text('CEPH ' + f)
    CONF.set_override('cloud_file', str(tmp_path / 'cloud.json'), 'node_join')
    CONF.set_override('key_repository', str(keys), 'identity')
    CONF.set_override('rbd_ceph_conf', str(ceph / 'ceph.conf'), 'volume')
    yield tmp_path
    CONF.clear_override('cloud_file', 'node_join')
    CONF.clear_override('key_repository', 'identity')
    CONF.clear_override('rbd_ceph_conf', 'volume')


def test_a_controller_gets_the_clouds_files_only_when_its_token_is_accepted(
        broker, controller_files):
    nodes.record_first_control('ctl1', '192.0.2.1')
    ctl = join_token.decode(node_admin.add('ctl2', role='control'))
    cmp_ = join_token.decode(node_admin.add('cmp1'))
    conductor = conductor_manager.ConductorManager()
    ctx = get_admin_context()
    wrong = conductor.register_node(ctx, 'ctl2', 'guess', '192.0.2.2')
    assert set(wrong) == {'error'}
    out = conductor.register_node(ctx, 'ctl2', ctl['secret'], '192.0.2.2')
    assert out['role'] == 'control'
    b = out['bundle']
    assert b['cloud'] == CLOUD
    assert b['state_files'] == {'fernet-keys/0': 'KEY0', 'fernet-keys/1': 'KEY1'}
    assert set(b['etc_files']) == {'ceph/' + f for f in cloud.CEPH_FILES}
    assert b['controls'] == [['ctl1', '192.0.2.1'], ['ctl2', '192.0.2.2']]
    # Once: the second presentation gets nothing.
    assert set(conductor.register_node(ctx, 'ctl2', ctl['secret'], '192.0.2.2')) == {'error'}
    # A compute gets no bundle; without Ceph, no Ceph files.
    out = conductor.register_node(ctx, 'cmp1', cmp_['secret'], '192.0.2.6')
    assert 'bundle' not in out and 'ceph' not in out


def test_a_storage_machine_gets_the_key_that_makes_osds_and_a_compute_its_ceph_user(
        broker, controller_files):
    CONF.set_override('backend', 'rbd', 'volume')
    try:
        nodes.record_first_control('ctl1', '192.0.2.1')
        stor = join_token.decode(node_admin.add('stor1', role='storage'))
        cmp_ = join_token.decode(node_admin.add('cmp1'))
        conductor = conductor_manager.ConductorManager()
        ctx = get_admin_context()
        out = conductor.register_node(ctx, 'stor1', stor['secret'], '192.0.2.5')
        assert out['role'] == 'storage'
        assert out['bundle'] == {'etc_files': {
            'ceph/ceph.conf': 'CEPH ceph.conf',
            'ceph/client.bootstrap-osd.keyring': 'CEPH client.bootstrap-osd.keyring'}}
        ceph = conductor.register_node(ctx, 'cmp1', cmp_['secret'], '192.0.2.6')['ceph']
        assert ceph['user'] == 'altostack-compute' and set(ceph['files']) == {
            'ceph.conf', 'client.altostack-compute.keyring'}
        # neither gets the services' keys
        for got in (out['bundle']['etc_files'], ceph['files']):
            assert not [f for f in got if 'volume' in f or 'image' in f or 'admin' in f]
    finally:
        CONF.clear_override('backend', 'volume')


def test_a_compute_join_writes_its_ceph_files_and_libvirt_lines(tmp_path, monkeypatch):
    ceph = {'user': 'altostack-compute', 'secret_uuid': 'u-1',
            'files': {'ceph.conf': 'CONF', 'client.altostack-compute.keyring': 'KEY'}}
    monkeypatch.setattr(node_join, 'check_bus', lambda token, timeout: None)
    monkeypatch.setattr(node_join, 'register', lambda *a: {'role': 'compute', 'ceph': ceph})
    args = node_join._parser().parse_args([
        'join', _token(name='cmp1'), '--config-dir', str(tmp_path / 'etc'),
        '--state-path', str(tmp_path / 'lib'), '--my-ip', '192.0.2.6', '--no-start'])
    assert node_join.join(args) == 0
    keyring = tmp_path / 'etc' / 'ceph' / 'client.altostack-compute.keyring'
    assert keyring.read_text() == 'KEY' and oct(keyring.stat().st_mode)[-3:] == '600'
    conf = (tmp_path / 'etc' / 'altostack.conf').read_text()
    assert ('[libvirt]\nrbd_user = altostack-compute\nrbd_secret_uuid = u-1\n'
            'rbd_keyring = %s\n' % keyring) in conf


def test_a_storage_join_writes_the_files_and_brings_up_its_osd(tmp_path, monkeypatch, capsys):
    done = []
    bundle = {'etc_files': {'ceph/ceph.conf': 'CONF',
                            'ceph/client.bootstrap-osd.keyring': 'BOOT'}}
    monkeypatch.setattr(node_join, 'check_bus', lambda token, timeout: None)
    monkeypatch.setattr(node_join, 'register', lambda *a: {'role': 'storage',
                                                           'bundle': bundle})
    monkeypatch.setattr(node_cloud, '_osd_up', lambda v, etc: done.append(
        (v['altostack_ceph_dir'], v['altostack_ip'])))
    args = node_join._parser().parse_args([
        'join', _token(name='stor1', role='storage'), '--config-dir', str(tmp_path / 'etc'),
        '--state-path', str(tmp_path / 'lib'), '--my-ip', '192.0.2.5'])
    assert node_join.join(args) == 0
    assert done == [(str(tmp_path / 'lib' / 'ceph'), '192.0.2.5')]
    assert (tmp_path / 'etc' / 'ceph' / 'client.bootstrap-osd.keyring').read_text() == 'BOOT'
    assert not (tmp_path / 'etc' / 'join-bus.conf').exists()
    assert 'Joined as storage machine stor1' in capsys.readouterr().out
    # again: the OSD is brought up, nothing registered
    monkeypatch.setattr(node_join, 'register', lambda *a: 1 / 0)
    assert node_join.join(args) == 0 and len(done) == 2
    assert 'already joined' in capsys.readouterr().out


def test_a_controller_without_the_files_says_so(broker, tmp_path):
    CONF.set_override('cloud_file', str(tmp_path / 'missing.json'), 'node_join')
    (tmp_path / 'keys').mkdir()
    CONF.set_override('key_repository', str(tmp_path / 'keys'), 'identity')
    CONF.set_override('rbd_ceph_conf', str(tmp_path / 'ceph.conf'), 'volume')
    try:
        tok = join_token.decode(node_admin.add('ctl2', role='control'))
        out = conductor_manager.ConductorManager().register_node(
            get_admin_context(), 'ctl2', tok['secret'], '192.0.2.2')
    finally:
        for opt, group in (('cloud_file', 'node_join'), ('key_repository', 'identity'),
                           ('rbd_ceph_conf', 'volume')):
            CONF.clear_override(opt, group)
    assert 'cannot hand out' in out['error'] and 'ceph.conf' in out['error']


# -- the fronts ------------------------------------------------------------------

def test_only_the_load_balancer_adds_joined_controllers_to_its_fronts(
        broker, controller_files, monkeypatch):
    written = []
    monkeypatch.setattr(cloud, 'write_fronts', lambda *a, **kw: written.append(a))
    nodes.record_first_control('ctl1', '192.0.2.1')
    conductor = conductor_manager.ConductorManager()
    ctx = get_admin_context()
    assert 'not the load balancer' in conductor.add_to_fronts(ctx, 'ctl1')['error']
    CONF.set_override('front_dir', '/lb/front', 'node_join')
    CONF.set_override('front_address', '192.0.2.10', 'node_join')
    try:
        assert 'not a controller' in conductor.add_to_fronts(ctx, 'cmp9')['error']
        tok = join_token.decode(node_admin.add('ctl2', role='control'))
        conductor.register_node(ctx, 'ctl2', tok['secret'], '192.0.2.2')
        assert conductor.add_to_fronts(ctx, 'ctl2') == {'controls': ['ctl1', 'ctl2']}
    finally:
        CONF.clear_override('front_dir', 'node_join')
        CONF.clear_override('front_address', 'node_join')
    front_dir, address, _cloud, controls = written[0]
    assert (front_dir, address) == ('/lb/front', '192.0.2.10')
    assert controls == [('ctl1', '192.0.2.1'), ('ctl2', '192.0.2.2')]


def test_the_fronts_use_the_loadbalancer_roles_functions():
    v = node_cloud.ansible_vars(CLOUD, 'ctl1', '192.0.2.1', [], '/etc/a', '/var/a')
    text = cloud.front_lines('/f', '192.0.2.10', v, [('ctl1', '192.0.2.1'),
                                                     ('ctl2', '192.0.2.2')])
    assert ('altostack_cloud_fronts_up /f 192.0.2.10 8080 9292 3306 ctl1=192.0.2.1 '
            'ctl2=192.0.2.2') in text
    with open(os.path.join(cloud.SRC, 'deploy', 'ansible', 'roles', 'loadbalancer', 'tasks',
                           'main.yml')) as f:
        assert 'altostack_cloud_fronts_up' in f.read()


# -- the configuration -------------------------------------------------------------

def test_a_controllers_conf_is_the_ansible_roles_template_with_the_clouds_choices():
    controls = [('ctl1', '192.0.2.1'), ('ctl2', '192.0.2.2')]
    v = node_cloud.ansible_vars(CLOUD, 'ctl2', '192.0.2.2', controls, '/etc/a', '/var/a')
    text = node_cloud.render_controller_conf(v)
    assert 'host = ctl2' in text and 'my_ip = 192.0.2.2' in text
    assert 'connection = mysql+pymysql://altostack:DBPASSWORD@192.0.2.10:3306/altostack' in text
    assert ('transport_url = rabbit://altostack:BUSPASSWORD@192.0.2.1:5672,'
            'altostack:BUSPASSWORD@192.0.2.2:5672/altostack') in text
    assert 'rabbit_quorum_queue = true' in text and 'public_host = 192.0.2.10' in text
    assert 'rbd_keyring_conf = /etc/a/ceph/client.altostack-volume.keyring' in text
    assert 'controller_addresses = 192.0.2.1,192.0.2.2' in text
    assert 'rabbitmqctl = /var/a/rabbitmq/rabbitmqctl' in text
    assert v['altostack_galera_dir'] == '/var/a/galera'


def test_side_by_side_raises_the_first_failure_after_all_ended():
    ended = []

    def ok():
        time.sleep(0.1)
        ended.append('ok')

    def bad(msg):
        raise node_join.JoinError(msg)
    with pytest.raises(node_join.JoinError, match='galera'):
        node_cloud.side_by_side((bad, 'galera'), (ok,), (bad, 'rabbit'))
    assert ended == ['ok']


@pytest.mark.parametrize('argv,says', [
    (['--roles', 'control'], 'the roles control,loadbalancer'),
    (['--roles', 'storage,loadbalancer'], 'the roles control,loadbalancer'),
    (['--roles', 'control,storage,loadbalancer,dns'], 'unknown role'),
    (['--front-address', '192.0.2.1'], 'of its own'),
])
def test_init_refuses_what_it_cannot_do(tmp_path, capsys, argv, says):
    base = ['init', '--my-ip', '192.0.2.1', '--front-address', '192.0.2.10',
            '--config-dir', str(tmp_path / 'etc'), '--state-path', str(tmp_path / 'lib')]
    assert node_join.main(base + argv) == 1
    assert says in capsys.readouterr().err
    assert not (tmp_path / 'etc').exists()


def test_a_control_join_writes_what_the_conductor_sent_and_brings_up_each_part(
        tmp_path, monkeypatch, capsys):
    done = []
    bundle = {'cloud': CLOUD, 'state_files': {'fernet-keys/0': 'KEY0'},
              'etc_files': {'ceph/ceph.conf': 'CEPH'},
              'controls': [['ctl1', '192.0.2.1']]}
    monkeypatch.setattr(node_join, 'check_bus', lambda token, timeout: None)

    def register(conf_path, token, my_ip, timeout):
        with open(conf_path) as f:
            conf = f.read()
        done.append(('register', 'DBPASSWORD' in conf, 'transport_url = rabbit://u1:' in conf))
        return {'name': 'ctl2', 'state': 'joined', 'role': 'control', 'bundle': bundle}

    monkeypatch.setattr(node_join, 'register', register)
    monkeypatch.setattr(node_cloud, 'etc_hosts', lambda c: done.append(('hosts', c)))
    monkeypatch.setattr(node_cloud, 'galera_up', lambda v: done.append(
        ('galera', v['altostack_control_ips'])))
    monkeypatch.setattr(node_cloud, 'rabbit_up', lambda v, j: done.append(('rabbit', j)))
    monkeypatch.setattr(node_cloud, 'services_up', lambda v, restart=False: done.append('services'))
    monkeypatch.setattr(node_cloud, 'wait_http', lambda url: done.append(url))
    monkeypatch.setattr(node_cloud, '_rpc_add_to_fronts', lambda conf, lb, name, t: (
        done.append(('fronts', lb, name)) or ['ctl1', 'ctl2']))
    args = node_join._parser().parse_args([
        'join', _token(name='ctl2', role='control'), '--config-dir', str(tmp_path / 'etc'),
        '--state-path', str(tmp_path / 'lib'), '--my-ip', '192.0.2.2'])
    assert node_join.join(args) == 0
    assert done[:2] == [('register', False, True),
                        ('hosts', [['ctl1', '192.0.2.1'], ['ctl2', '192.0.2.2']])]
    # the two clusters' nodes side by side
    assert sorted(done[2:4]) == [('galera', ['192.0.2.1', '192.0.2.2']), ('rabbit', '192.0.2.1')]
    assert done[4:] == ['services', 'http://192.0.2.2:8080/healthcheck',
                        ('fronts', 'ctl1', 'ctl2')]
    assert (tmp_path / 'lib' / 'fernet-keys' / '0').read_text() == 'KEY0'
    assert (tmp_path / 'lib' / 'image-url.key').read_text() == 'ab12'
    assert (tmp_path / 'etc' / 'ceph' / 'ceph.conf').read_text() == 'CEPH'
    conf = (tmp_path / 'etc' / 'altostack.conf').read_text()
    assert 'DBPASSWORD@192.0.2.10' in conf
    assert not (tmp_path / 'etc' / 'join-bus.conf').exists()
    assert 'Joined as controller ctl2' in capsys.readouterr().out
    # Again with the same token: nothing registered twice.
    done.clear()
    assert node_join.join(args) == 0
    assert done == ['services'] and 'already joined' in capsys.readouterr().out


# -- removing a controller ---------------------------------------------------------

@pytest.fixture
def three_controls(broker, controller_files, monkeypatch):
    """ctl1 (the load balancer's, which started the cloud), ctl2 and ctl3
    joined; the fronts' refresh recorded."""
    nodes.record_first_control('ctl1', '192.0.2.1')
    conductor = conductor_manager.ConductorManager()
    for n in (2, 3):
        tok = join_token.decode(node_admin.add('ctl%d' % n, role='control'))
        conductor.register_node(get_admin_context(), 'ctl%d' % n, tok['secret'],
                                '192.0.2.%d' % n)
    refreshed = []
    monkeypatch.setattr(node_admin, '_refresh_fronts', lambda: refreshed.append(
        [n for n, _ in nodes.control_nodes()]) or refreshed[-1])
    monkeypatch.setattr(node_admin, '_galera_members', lambda: ['192.0.2.1:3306',
                                                               '192.0.2.2:3306'])
    broker.calls.clear()
    return refreshed


def test_a_removed_controller_leaves_the_broker_cluster_and_the_fronts(broker,
                                                                        three_controls):
    done = node_admin.remove('ctl3')
    assert ('forget_cluster_node', 'rabbit@192.0.2.3') in broker.calls
    assert three_controls == [['ctl1', 'ctl2']] and done['fronts_left'] == 2
    assert nodes.get('ctl3').state == 'removed'
    # new tokens no longer name it
    assert join_token.decode(node_admin.add('cmp1'))['controllers'] == [
        '192.0.2.1', '192.0.2.2']


@pytest.mark.parametrize('name,says', [
    ('ctl1', 'holds the load balancer'),
    ('ctl2', r'Galera node of ctl2 \(192.0.2.2\) is still in the cluster'),
])
def test_a_controller_that_cannot_go_yet_is_refused_with_nothing_done(
        broker, three_controls, name, says):
    with pytest.raises(node_admin.NodeCommandError, match=says):
        node_admin.remove(name)
    assert broker.calls == [] and three_controls == []
    assert nodes.get(name).state == 'joined'


def test_a_running_broker_node_is_not_forgotten(broker, three_controls, monkeypatch):
    class Refused:
        returncode, stdout = 2, ''
        stderr = "Error: {failed_to_remove_node,'rabbit@192.0.2.3',{active,...}}"
    monkeypatch.setattr(node_admin, '_rabbitmqctl', lambda *a: Refused)
    with pytest.raises(node_admin.NodeCommandError, match='did not forget'):
        node_admin.remove('ctl3')
    assert nodes.get('ctl3').state == 'joined' and three_controls == []


def test_the_load_balancer_rewrites_its_fronts_without_a_removed_controller(
        broker, controller_files, monkeypatch):
    written = []
    monkeypatch.setattr(cloud, 'write_fronts', lambda *a, **kw: written.append(a[3]))
    nodes.record_first_control('ctl1', '192.0.2.1')
    tok = join_token.decode(node_admin.add('ctl2', role='control'))
    nodes.consume('ctl2', join_token.secret_hash(tok['secret']), '192.0.2.2')
    CONF.set_override('front_dir', '/lb/front', 'node_join')
    try:
        nodes.mark_removed('ctl2')
        out = conductor_manager.ConductorManager().refresh_fronts(get_admin_context())
    finally:
        CONF.clear_override('front_dir', 'node_join')
    assert out == {'controls': ['ctl1']} and written == [[('ctl1', '192.0.2.1')]]
