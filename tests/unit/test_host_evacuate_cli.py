"""altostack-host-evacuate with a fake connection: one line per server,
accepted or refused with the API's message, the target host passed on,
and --wait's lines and outcome."""

import io
import types

from cli import host_evacuate


class Resp:
    def __init__(self, status, body=None):
        self.status_code, self._body, self.text = status, body, ''

    def json(self):
        if self._body is None:
            raise ValueError('no body')
        return self._body


class Compute:
    def __init__(self, answers, after):
        self.answers, self.after, self.posts, self.listed = answers, after, [], None

    def servers(self, **query):
        self.listed = query
        return [types.SimpleNamespace(id=sid, name='vm-' + sid) for sid in self.answers]

    def post(self, path, json=None, microversion=None, raise_exc=True):
        self.posts.append((path, json, microversion))
        return self.answers[path.split('/')[2]]

    def get_server(self, sid):
        status, host, fault = self.after[sid]
        return types.SimpleNamespace(id=sid, name='vm-' + sid, status=status,
                                     compute_host=host, fault=fault)


def conn(answers, after=None):
    return types.SimpleNamespace(compute=Compute(answers, after or {}))


def test_one_line_per_server_and_the_target_passed_on():
    c = conn({'a': Resp(200), 'b': Resp(400, {'badRequest': {
        'message': 'Compute service of h2 is still in use.', 'code': 400}})})
    out = io.StringIO()
    results = host_evacuate.evacuate_host(c, 'h2', target='h1', out=out)
    assert [accepted for _s, accepted in results] == [True, False]
    assert out.getvalue().splitlines() == [
        'a vm-a accepted evacuating to h1',
        'b vm-b refused Compute service of h2 is still in use.']
    assert c.compute.listed == {'details': True, 'all_projects': True, 'compute_host': 'h2'}
    assert c.compute.posts[0] == ('/servers/a/action', {'evacuate': {'host': 'h1'}}, '2.29')


def test_nothing_on_the_host():
    out = io.StringIO()
    assert host_evacuate.evacuate_host(conn({}), 'h2', out=out) == []
    assert out.getvalue() == 'No servers on h2.\n'


def test_wait_reports_where_each_ended():
    c = conn({'a': Resp(200), 'b': Resp(200)},
             {'a': ('ACTIVE', 'h1', None), 'b': ('ERROR', 'h2', {'message': 'no disk'})})
    servers = [s for s, _ok in host_evacuate.evacuate_host(c, 'h2', out=io.StringIO())]
    out = io.StringIO()
    assert host_evacuate.wait(c, servers, 10, out=out) is False
    assert out.getvalue().splitlines() == ['a vm-a ACTIVE on h1', 'b vm-b ERROR on h2 no disk']


def test_options_beside_openstacksdks(monkeypatch, tmp_path):
    for key in ('OS_CLOUD', 'OS_AUTH_URL'):
        monkeypatch.delenv(key, raising=False)
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text('clouds:\n  c1:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n')
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    args = host_evacuate.parse_args(['--os-cloud', 'c1', 'h2', '--target-host', 'h1',
                                     '--wait', '--wait-timeout', '30'])
    assert (args.host, args.target_host, args.wait, args.wait_timeout) == ('h2', 'h1', True,
                                                                          30.0)
    assert args.os_cloud == 'c1'
