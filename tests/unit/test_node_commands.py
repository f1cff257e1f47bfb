"""altostack-manage node add|list|remove (cli/node_admin.py), the
conductor's single-use register_node (conductor/nodes.py), and
altostack-node join (cli/node_join.py) without a controller: the broker's
rabbitmqctl and the RPC call are stood in for here; tests/multinode/
test_node_join.py runs them for real."""

import datetime
import subprocess
import uuid

import pytest

from cli import node_admin
from cli import node_join
from common import join_token
from common import servicegroup
from common.context import get_admin_context
from common.db import api as db_api
from common.db import compute_models as cm
from common.db.models import utcnow
from conductor import manager as conductor_manager
from conductor import nodes
from scheduler import claims
from tests.fixtures.scheduler_nodes import add_host


def test_add_makes_a_bus_user_on_the_vhost_and_a_token(broker):
    text = node_admin.add('n1')
    tok = join_token.decode(text)
    assert tok['name'] == 'n1' and tok['controllers'] == ['192.0.2.1']
    assert tok['vhost'] == 'cloudvh' and tok['user'] in broker.users
    assert ('set_permissions', '-p', 'cloudvh', tok['user'], '.*', '.*', '.*') in broker.calls
    assert 'DEFAULT.report_interval' in tok['options']
    row = nodes.get('n1')
    assert row.state == 'token-issued' and row.bus_user == tok['user']
    assert row.token_hash == join_token.secret_hash(tok['secret'])
    assert 'n1 - - - - token-issued' in node_admin.list_lines()


def test_no_bus_password_reads_as_an_option_of_rabbitmqctl(broker, monkeypatch):
    # token_urlsafe gave '-DuWTD...' once in CI: rabbitmqctl took it for options.
    monkeypatch.setattr(node_admin.secrets, 'token_urlsafe', lambda n=None: '-' * 32)
    for i in range(20):
        node_admin.add('pw%d' % i)
    passwords = [c[2] for c in broker.calls if c[0] == 'add_user']
    assert len(passwords) == 20 and not any(p.startswith('-') for p in passwords), passwords
    assert all(len(p) >= 32 for p in passwords), passwords


def test_the_token_carries_the_bus_options_of_a_cluster_when_asked(broker):
    # A cloud on a RabbitMQ cluster (deploy/ansible) names its
    # [oslo_messaging_rabbit] settings in agent_options: the joining agent
    # must declare its queues as the controllers do.
    from common.conf import CONF
    CONF.set_override('agent_options', ['DEFAULT.report_interval',
                                        'oslo_messaging_rabbit.rabbit_quorum_queue'],
                      'node_join')
    CONF.set_override('rabbit_quorum_queue', True, 'oslo_messaging_rabbit')
    try:
        tok = join_token.decode(node_admin.add('n1'))
    finally:
        CONF.clear_override('rabbit_quorum_queue', 'oslo_messaging_rabbit')
        CONF.clear_override('agent_options', 'node_join')
    assert tok['options']['oslo_messaging_rabbit.rabbit_quorum_queue'] == 'True'
    conf = node_join.render_conf(tok, '192.0.2.9', '/var/lib/altostack')
    assert '[oslo_messaging_rabbit]\nrabbit_quorum_queue = True' in conf


def test_a_new_token_replaces_the_old_one_and_its_bus_user(broker):
    old = join_token.decode(node_admin.add('n1'))
    new = join_token.decode(node_admin.add('n1'))
    assert broker.users == {new['user']}
    with pytest.raises(nodes.JoinRefused, match='does not know'):
        nodes.consume('n1', join_token.secret_hash(old['secret']), '10.0.0.9')


def test_register_node_accepts_a_token_once(broker):
    tok = join_token.decode(node_admin.add('n1'))
    conductor = conductor_manager.ConductorManager()
    ctx = get_admin_context()
    assert conductor.register_node(ctx, 'n1', tok['secret'], '10.0.0.9') == {
        'name': 'n1', 'state': 'joined', 'role': 'compute'}
    again = conductor.register_node(ctx, 'n1', tok['secret'], '10.0.0.9')
    assert 'used already' in again['error']
    assert 'does not know' in conductor.register_node(ctx, 'n1', 'guess', '10.0.0.9')['error']
    assert 'does not know' in conductor.register_node(ctx, 'nX', tok['secret'], 'x')['error']
    assert nodes.get('n1').my_ip == '10.0.0.9'
    with pytest.raises(node_admin.NodeCommandError, match='joined already'):
        node_admin.add('n1')


def test_an_expired_token_is_refused(broker):
    past = utcnow() - datetime.timedelta(seconds=3600 + 5)
    text = node_admin.add('n1', now=past)
    # decode() refuses it on the node already; the conductor does too.
    with pytest.raises(join_token.InvalidJoinToken, match='expired'):
        join_token.decode(text)
    row = nodes.get('n1')
    assert row.expires < utcnow()
    with pytest.raises(nodes.JoinRefused, match='expired'):
        nodes.consume('n1', row.token_hash, '10.0.0.9')


def _server_on(host):
    sid = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=sid, display_name='vm1', hostname='vm1', project_id='p',
                          user_id='u', flavor={'vcpus': 1, 'memory_mb': 64, 'root_gb': 1},
                          vcpus=1, memory_mb=64, root_gb=1, vm_state='active', host=host,
                          node=host, image_ref='img', request_spec={}))
    assert claims.claim(claims.node_for_host(host).id, sid,
                        {'vcpus': 1, 'memory_mb': 64, 'disk_gb': 1})
    return sid


def test_remove_refuses_while_servers_remain_then_leaves_nothing(broker):
    tok = join_token.decode(node_admin.add('n1'))
    nodes.consume('n1', join_token.secret_hash(tok['secret']), '10.0.0.9')
    add_host('n1')
    sid = _server_on('n1')
    with pytest.raises(node_admin.NodeCommandError, match='live-migrate.*evacuate') as e:
        node_admin.remove('n1')
    assert sid in str(e.value)
    assert tok['user'] in broker.users
    with db_api.session() as s:
        s.query(cm.Instance).filter_by(uuid=sid).one().deleted = True
    assert 'n1' in [line.split()[0] for line in node_admin.list_lines()]
    done = node_admin.remove('n1')
    assert done['compute_nodes'] == 1 and done['services'] == 1 and done['claims'] == 1
    assert broker.users == set()
    assert ('close_connection', '<pid.%s>' % tok['user'], 'node removed') not in broker.calls
    assert claims.node_for_host('n1') is None
    assert not servicegroup.list_services(host='n1')
    assert node_admin.list_lines() == ['n1 - - - - removed']
    with pytest.raises(nodes.JoinRefused, match='removed'):
        nodes.consume('n1', join_token.secret_hash(tok['secret']), '10.0.0.9')
    # A removed node may join again with a new token.
    assert join_token.decode(node_admin.add('n1'))['name'] == 'n1'


def test_remove_closes_the_nodes_open_bus_connections(broker, monkeypatch):
    tok = join_token.decode(node_admin.add('n1'))
    kept = set(broker.users)
    real = node_admin._rabbitmqctl

    def listing(*args):
        if args[0] == 'list_connections':
            return subprocess.CompletedProcess(args, 0, ''.join(
                '%s\t<pid.%s>\n' % (u, u) for u in kept), '')
        return real(*args)

    monkeypatch.setattr(node_admin, '_rabbitmqctl', listing)
    node_admin.remove('n1')
    assert ('close_connection', '<pid.%s>' % tok['user'], 'node removed') in broker.calls


def test_remove_of_an_unknown_name_is_an_error(broker):
    with pytest.raises(node_admin.NodeCommandError, match='no node'):
        node_admin.remove('ghost')


# -- altostack-node join --------------------------------------------------------

def _args(tmp_path, text, **kw):
    ns = node_join._parser().parse_args(['join', text, '--config-dir', str(tmp_path / 'etc'),
                                         '--state-path', str(tmp_path / 'lib'),
                                         '--my-ip', '10.0.0.9'])
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


@pytest.fixture
def offline(monkeypatch):
    """join without a broker or a conductor: what it would send."""
    sent = []
    monkeypatch.setattr(node_join, 'check_bus', lambda token, timeout: None)

    def register(conf_path, token, my_ip, timeout):
        with open(conf_path) as f:
            sent.append((token['name'], my_ip, f.read()))
        return {'name': token['name'], 'state': 'joined'}

    monkeypatch.setattr(node_join, 'register', register)
    monkeypatch.setattr(node_join, 'start_agent', lambda conf, state: (4242, True))
    return sent


def _text(**kw):
    import time
    args = dict(name='n1', secret='s', controllers=['192.0.2.1'], port=5672, vhost='v',
                user='u1', password='pw', expires=int(time.time()) + 60,
                options={'DEFAULT.report_interval': '2', 'compute.virt_type': 'qemu'})
    args.update(kw)
    return join_token.encode(**args)


def test_join_writes_the_nodes_config_without_database_credentials(tmp_path, offline, capsys):
    assert node_join.join(_args(tmp_path, _text())) == 0
    conf = (tmp_path / 'etc' / 'altostack.conf').read_text()
    assert offline[0][:2] == ('n1', '10.0.0.9')
    assert 'transport_url = rabbit://u1:pw@192.0.2.1:5672/v' in conf
    assert 'host = n1' in conf and 'my_ip = 10.0.0.9' in conf
    assert 'report_interval = 2' in conf and 'virt_type = qemu' in conf
    assert 'external_gateway = false' in conf
    assert '[database]' not in conf and 'connection' not in conf
    assert 'started (pid 4242)' in capsys.readouterr().out


def test_join_again_with_the_same_token_registers_once(tmp_path, offline, capsys):
    node_join.join(_args(tmp_path, _text()))
    node_join.join(_args(tmp_path, _text()))
    assert len(offline) == 1
    assert 'already joined as n1' in capsys.readouterr().out


def test_a_refused_join_leaves_no_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(node_join, 'check_bus', lambda token, timeout: None)

    def refuse(conf_path, token, my_ip, timeout):
        raise node_join.JoinError('This join token was used already.')

    monkeypatch.setattr(node_join, 'register', refuse)
    rc = node_join.main(['join', _text(), '--config-dir', str(tmp_path / 'etc'),
                         '--state-path', str(tmp_path / 'lib'), '--my-ip', '10.0.0.9'])
    assert rc == 1
    assert 'used already' in capsys.readouterr().err
    assert list((tmp_path / 'etc').iterdir()) == []


def test_join_with_an_expired_token_exits_non_zero(tmp_path, capsys):
    rc = node_join.main(['join', _text(expires=1), '--config-dir', str(tmp_path / 'etc'),
                         '--state-path', str(tmp_path / 'lib')])
    assert rc == 1
    assert 'expired' in capsys.readouterr().err


def test_my_ip_is_the_source_of_the_route_to_the_controller():
    assert node_join.detect_my_ip(['127.0.0.1'], 5672) == '127.0.0.1'
