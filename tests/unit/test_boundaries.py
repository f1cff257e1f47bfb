"""The boundary lint (tools/check_boundaries.py): the repository passes it,
and each rule fails a small tree that breaks it."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

sys.path.insert(0, str(ROOT / 'tools'))
try:
    import check_boundaries
finally:
    sys.path.pop(0)


def test_boundary_lint_passes():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'check_boundaries.py')],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_boundary_lint_catches_compute_using_db(tmp_path):
    bad = tmp_path / 'x.py'
    bad.write_text('from common.db import api\nfrom scheduler import manager\nprint(1)\n')
    errs = [m for _l, m in check_boundaries.check(bad, 'compute/x.py')]
    assert any(e.startswith('B1') for e in errs)
    assert any(e.startswith('B2') for e in errs)
    assert any(e.startswith('B5') for e in errs)


def lint(root, files):
    """Write ``files`` ({rel path: text}; every folder on the way is a
    package) under ``root`` and lint it: {(rel, code): message}."""
    for rel, text in files.items():
        path = root / rel
        for parent in reversed(path.relative_to(root).parents[:-1]):
            (root / parent).mkdir(exist_ok=True)
            init = root / parent / '__init__.py'
            if not init.exists():
                init.write_text('')
        path.write_text(text)
    return {(rel, msg.split()[0]): msg for rel, _line, msg in check_boundaries.check_tree(root)}


def test_a_clean_tree_passes(tmp_path):
    assert lint(tmp_path, {
        'compute/manager.py': 'from scheduler import rpcapi\nfrom common.host import disk\n',
        'scheduler/rpcapi.py': 'from common import rpc\n',
        'scheduler/manager.py': 'from common.db import api\n',
        'common/rpc.py': 'import oslo_messaging\n',
        'common/db/api.py': 'import sqlalchemy\n',
        'common/host/disk.py': 'from common.host import exception\n',
        'common/host/exception.py': 'from common import exception\n',
        'common/exception.py': '',
        'blockstore/backends/file.py': 'from common.host import disk\n',
        'cli/manage.py': 'def f():\n    from api.identity import bootstrap\n',
        'api/identity/bootstrap.py': 'from common.db import api\n',
    }) == {}


def test_imports_inside_functions_count(tmp_path):
    errs = lint(tmp_path, {
        'compute/x.py': 'def f():\n    from common.db import api\n',
        'common/y.py': 'def g():\n    if True:\n        from api import bootstrap\n',
    })
    assert errs[('compute/x.py', 'B1')].endswith('common.db.api (in a function)')
    assert 'api.bootstrap' in errs[('common/y.py', 'B3')]


def test_b1_follows_chains_of_imports(tmp_path):
    errs = lint(tmp_path, {
        'compute/manager.py': 'from scheduler import rpcapi\n',
        'compute/cmd.py': 'from common import service\nfrom compute import manager\n',
        'scheduler/rpcapi.py': 'import json\nfrom common.db import netstate\n',
        'common/db/netstate.py': '',
        'common/service.py': 'from common import servicegroup\n',
        'common/servicegroup.py': 'import sqlalchemy\n',
    })
    assert errs[('compute/manager.py', 'B1')] == (
        'B1 compute reaches the database: scheduler.rpcapi -> common.db.netstate '
        '(scheduler/rpcapi.py:2)')
    chain = errs[('compute/cmd.py', 'B1')]
    assert 'common.service -> common.servicegroup' in chain and 'sqlalchemy' in chain
    # reported where the chain leaves compute/, once
    assert sorted(errs) == [('compute/cmd.py', 'B1'), ('compute/manager.py', 'B1')]


def test_a_chain_goes_on_through_module_level_imports_only(tmp_path):
    # An import inside a function further down runs only when it is called.
    assert lint(tmp_path, {
        'compute/manager.py': 'from common import service\n',
        'common/service.py': 'def report():\n    from common import servicegroup\n',
        'common/servicegroup.py': 'from common.db import api\n',
        'common/db/api.py': '',
    }) == {}


def test_b2_another_services_manager_directly_or_through_a_chain(tmp_path):
    errs = lint(tmp_path, {
        'api/servers.py': 'from scheduler import build\n',
        'scheduler/build.py': 'from scheduler import manager\n',
        'scheduler/manager.py': '',
        'blockstore/x.py': 'def f():\n    from imagestore import manager\n',
        'imagestore/manager.py': '',
    })
    assert 'scheduler.build -> scheduler.manager' in errs[('api/servers.py', 'B2')]
    assert ('blockstore/x.py', 'B2') in errs
    assert ('scheduler/build.py', 'B2') not in errs  # its own manager


def test_b3_common_reaches_beyond_common(tmp_path):
    errs = lint(tmp_path, {
        'common/host/cmd.py': 'from compute.virt import exception\n',
        'common/manage.py': 'def f():\n    from api.identity import bootstrap\n',
        'common/web.py': 'from cli import manage\n',
        'compute/virt/exception.py': '',
        'cli/manage.py': '',
    })
    assert {k for k in errs if k[1] == 'B3'} == {
        ('common/host/cmd.py', 'B3'), ('common/manage.py', 'B3'), ('common/web.py', 'B3')}


def test_b6_flask_request_only_in_the_http_edges(tmp_path):
    uses = 'import flask\n\n\ndef f():\n    return flask.request.path\n'
    errs = lint(tmp_path, {
        'scheduler/x.py': 'from flask import request\n',
        'common/y.py': uses,
        'imagestore/images.py': 'from flask import request as r\n',
        'network/routers.py': 'import flask.globals\nflask.globals.request\n',
        # the edges
        'api/compute/servers.py': uses,
        'imagestore/api/images.py': 'from flask import request\n',
        'consoleproxy/server.py': uses,
        'dashboard/views.py': uses,
        'common/web.py': uses,
        # building an app is not using the request
        'imagestore/cmd.py': 'from imagestore.api import images\nimport flask\nflask.Flask\n',
    })
    assert sorted(k for k in errs if k[1] == 'B6') == [
        ('common/y.py', 'B6'), ('imagestore/images.py', 'B6'),
        ('network/routers.py', 'B6'), ('scheduler/x.py', 'B6')]


def test_b7_virt_drivers_do_not_reach_each_other(tmp_path):
    errs = lint(tmp_path, {
        'compute/virt/driver.py': 'class ComputeDriver:\n    pass\n',
        'compute/virt/fake.py': ('from compute.virt import driver\n\n\n'
                                 'class FakeDriver(driver.ComputeDriver):\n    pass\n'),
        'compute/virt/helpers.py': 'from compute.virt import fake\n',
        'compute/virt/libvirt/driver.py': ('from compute.virt import driver\n'
                                           'from compute.virt.libvirt import host\n'
                                           'from compute.virt import fake\n\n\n'
                                           'class LibvirtDriver(driver.ComputeDriver):\n'
                                           '    pass\n'),
        'compute/virt/libvirt/host.py': 'from compute.virt import helpers\n',
        'compute/virt/vz/driver.py': ('from compute.virt import driver\n\n\n'
                                      'class VzDriver(driver.ComputeDriver):\n'
                                      '    def f(self):\n'
                                      '        from compute.virt.libvirt import host\n'),
        'compute/virt/vz/util.py': '',
        'compute/virt/shared/disk.py': 'from compute.virt import driver\n',
    })
    assert errs[('compute/virt/libvirt/driver.py', 'B7')].endswith('compute.virt.fake')
    assert 'compute.virt.helpers -> compute.virt.fake' in \
        errs[('compute/virt/libvirt/host.py', 'B7')]
    assert ('compute/virt/vz/driver.py', 'B7') in errs
    assert sorted(k for k in errs if k[1] == 'B7') == [  # the interface is no driver,
        ('compute/virt/libvirt/driver.py', 'B7'), ('compute/virt/libvirt/host.py', 'B7'),
        ('compute/virt/vz/driver.py', 'B7')]                # nor a package of helpers


def test_b8_the_virt_layer_keeps_to_itself(tmp_path):
    errs = lint(tmp_path, {
        'compute/virt/libvirt/driver.py': ('from compute import configdrive\n'
                                           'from compute.virt import locks\n'
                                           'from common.host import disk\n'),
        'compute/virt/locks.py': 'from compute.virt import exception\n',
        'compute/virt/exception.py': 'from compute import imagecache\n',
        'compute/configdrive.py': '',
        'compute/imagecache.py': '',
        'common/host/disk.py': '',
    })
    assert sorted(k for k in errs if k[1] == 'B8') == [
        ('compute/virt/exception.py', 'B8'), ('compute/virt/libvirt/driver.py', 'B8')]
    assert errs[('compute/virt/libvirt/driver.py', 'B8')].endswith('compute.configdrive')


def test_b9_conductor_uses_the_database_but_not_api_or_flask(tmp_path):
    errs = lint(tmp_path, {
        'conductor/manager.py': 'from common.db import api\nfrom conductor import moves\n',
        'conductor/moves.py': 'from api.compute import views\n',
        'conductor/hooks.py': 'from common import web\n',
        'conductor/app.py': 'import flask\n',
        'common/db/api.py': 'import sqlalchemy\n',
        'common/web.py': 'import flask\n',
        'api/compute/views.py': '',
    })
    assert sorted(k for k in errs if k[1] == 'B9') == [
        ('conductor/app.py', 'B9'), ('conductor/hooks.py', 'B9'), ('conductor/moves.py', 'B9')]
    assert 'common.web -> flask' in errs[('conductor/hooks.py', 'B9')]


def test_b10_the_dashboard_talks_to_the_cloud_over_http_only(tmp_path):
    errs = lint(tmp_path, {
        'dashboard/views.py': ('import flask\nfrom flask import request\n'
                               'from common import conf\nfrom dashboard import client\n'),
        'dashboard/client.py': 'import keystoneauth1\n',
        'dashboard/db.py': 'from common.db import api\n',
        'dashboard/servers.py': 'from compute import rpcapi\n',
        'dashboard/tokens.py': 'from common import auth\n',
        'dashboard/images.py': 'def f():\n    from imagestore import images\n',
        'common/conf.py': '',
        'common/auth.py': 'from common.db import api\n',
        'common/db/api.py': '',
        'compute/rpcapi.py': '',
        'imagestore/images.py': '',
    })
    assert sorted(k for k in errs if k[1] == 'B10') == [
        ('dashboard/db.py', 'B10'), ('dashboard/images.py', 'B10'),
        ('dashboard/servers.py', 'B10'), ('dashboard/tokens.py', 'B10')]
    assert 'common.auth -> common.db.api' in errs[('dashboard/tokens.py', 'B10')]


def test_b11_only_compute_rpcapi_is_anyone_elses(tmp_path):
    errs = lint(tmp_path, {
        'blockstore/backends/file.py': 'from compute.virt import disk\n',
        'blockstore/manager.py': ('from compute import rpcapi\nfrom common.host import images\n'
                                  'from blockstore import helpers\n'),
        'blockstore/helpers.py': 'def f():\n    from compute import imagecache\n',
        'api/servers.py': 'from compute import rpcapi\nfrom network import routers\n',
        'network/routers.py': 'from compute.network import names\n',
        'cli/tool.py': 'from compute import manager\n',
        'compute/rpcapi.py': 'from common import rpc\n',
        'compute/virt/disk.py': '',
        'compute/imagecache.py': '',
        'compute/manager.py': '',
        'compute/network/names.py': '',
        'common/rpc.py': '',
        'common/host/images.py': '',
    })
    assert sorted(k for k in errs if k[1] == 'B11') == [
        ('api/servers.py', 'B11'), ('blockstore/backends/file.py', 'B11'),
        ('blockstore/helpers.py', 'B11'), ('cli/tool.py', 'B11'), ('network/routers.py', 'B11')]
    assert 'network.routers -> compute.network.names' in errs[('api/servers.py', 'B11')]


def test_the_compute_agent_loads_no_database_code():
    """What the lint says, seen at run time: importing every module of the
    agent (libvirt's driver too when libvirt-python is there) loads neither
    sqlalchemy nor common.db, nor another service's code but its rpcapi."""
    code = '''
import importlib, pkgutil, sys
import compute
for info in pkgutil.walk_packages(compute.__path__, 'compute.'):
    try:
        importlib.import_module(info.name)
    except ImportError as e:
        if getattr(e, 'name', None) != 'libvirt':
            raise
bad = sorted(m for m in sys.modules
             if m.split('.')[0] in ('sqlalchemy', 'api', 'network')
             or m.startswith('common.db')
             or (m.split('.')[0] in ('scheduler', 'conductor', 'blockstore', 'imagestore')
                 and '.' in m and m.split('.', 1)[1] != 'rpcapi'))
print('\\n'.join(bad))
'''
    r = subprocess.run([sys.executable, '-W', 'ignore', '-c', code], capture_output=True,
                       text=True, cwd=str(ROOT), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == []


def test_b1_compute_does_not_reach_the_network_records(tmp_path):
    # network/ (the Neutron side's records) reads the database; the agents'
    # data plane is compute/network/.
    errs = lint(tmp_path, {
        'compute/x.py': 'from network import state\nfrom compute.network import plane\n',
        'compute/network/plane.py': '',
        'network/state.py': 'from common.db import api\n',
        'common/db/api.py': '',
    })
    assert sorted(errs) == [('compute/x.py', 'B1')]
    assert 'network.state -> common.db.api' in errs[('compute/x.py', 'B1')]
