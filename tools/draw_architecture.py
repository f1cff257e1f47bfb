#!/usr/bin/env python3
"""Draw the services and how they talk, read from the code (not remembered).

* a service is a console script in setup.cfg whose target is ``<pkg>.cmd``;
* its RPC topic is ``TOPIC`` in ``<pkg>/rpcapi.py``;
* an RPC arrow A -> B is an import of B's rpcapi anywhere in package A;
* an SQL arrow is an import of ``common.db`` anywhere in the package;
* the HTTP edges are the packages that import flask (websockets: a
  websocket server, websockify: one that serves web pages too; the console
  proxies); a service that imports openstacksdk (the dashboard) is a client
  of every HTTP service, as the CLI is.

Writes docs/architecture.dot and, when Graphviz's ``dot`` is installed,
docs/architecture.svg. ``--check`` only compares the committed .dot with
what the code says now (tests/unit/test_architecture_picture.py runs it).

    python3 tools/draw_architecture.py [--check]
"""

import ast
import configparser
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOT = ROOT / 'docs' / 'architecture.dot'
SVG = ROOT / 'docs' / 'architecture.svg'


def services():
    """{package: console scripts} for every service started from <pkg>.cmd
    (one package may start several: the console proxies)."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    out = {}
    for line in cfg['options.entry_points']['console_scripts'].strip().splitlines():
        name, target = [p.strip() for p in line.split('=', 1)]
        module = target.split(':')[0]
        pkg, _, rest = module.partition('.')
        if rest == 'cmd':
            out[pkg] = '%s\\n%s' % (out[pkg], name) if pkg in out else name
    return out


def _imports(pkg):
    yield from _file_imports(sorted((ROOT / pkg).rglob('*.py')))


def _library_imports(imported, svcs):
    """What the modules of our non-service packages (network/: the
    Neutron records) that ``imported`` names import in turn: a service
    that casts through network.notify talks to compute."""
    paths = []
    for name in imported:
        top = name.split('.')[0]
        path = ROOT / (name.replace('.', '/') + '.py')
        if top not in svcs and top != 'common' and path.is_file():
            paths.append(path)
    return set(_file_imports(sorted(set(paths))))


def _file_imports(paths):
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield a.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield node.module
                for a in node.names:
                    yield '%s.%s' % (node.module, a.name)


def topic(pkg):
    path = ROOT / pkg / 'rpcapi.py'
    if not path.exists():
        return None
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == 'TOPIC' for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def graph():
    svcs = services()
    lines = ['digraph altostack {',
             '  rankdir=LR; node [shape=box, fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];',
             '  clients [label="openstack CLI / openstacksdk /\\nkeystoneauth1 / browsers",'
             ' shape=ellipse];',
             '  db [label="SQL database\\n(SQLite, MariaDB, PostgreSQL)", shape=cylinder];']
    edges = []
    http = set()
    for pkg in sorted(svcs):
        imported = set(_imports(pkg)) | _library_imports(set(_imports(pkg)), svcs)
        if any(m == 'flask' or m.startswith('flask.') for m in imported) and not any(
                m == 'openstack' or m.startswith('openstack.') for m in imported):
            http.add(pkg)
    for pkg in sorted(svcs):
        t = topic(pkg)
        label = '%s\\n%s/%s' % (svcs[pkg], pkg, '\\ntopic %s' % t if t else '')
        lines.append('  %s [label="%s"];' % (pkg, label))
        imported = set(_imports(pkg))
        imported |= _library_imports(imported, svcs)
        if any(m == 'flask' or m.startswith('flask.') for m in imported):
            edges.append('  clients -> %s [label="HTTP"];' % pkg)
        if any(m == 'openstack' or m.startswith('openstack.') for m in imported):
            edges.extend('  %s -> %s [label="HTTP (catalog)"];' % (pkg, other)
                         for other in sorted(http))
        elif any(m.split('.')[0] == 'websockify' for m in imported):  # pages too
            edges.append('  clients -> %s [label="HTTP, websocket"];' % pkg)
        elif any(m.split('.')[0] == 'websockets' for m in imported):
            edges.append('  clients -> %s [label="websocket"];' % pkg)
        for other in sorted(svcs):
            if other != pkg and topic(other) and '%s.rpcapi' % other in imported:
                edges.append('  %s -> %s [label="RPC"];' % (pkg, other))
        if any(m == 'common.db' or m.startswith('common.db.') for m in imported):
            edges.append('  %s -> db [label="SQL", style=dashed];' % pkg)
    return '\n'.join(lines + edges + ['}']) + '\n'


def main(argv):
    text = graph()
    if '--check' in argv:
        if not DOT.exists() or DOT.read_text() != text:
            print('docs/architecture.dot is out of date with the code: run '
                  'python3 tools/draw_architecture.py and commit the result')
            return 1
        return 0
    DOT.write_text(text)
    if shutil.which('dot'):
        subprocess.run(['dot', '-Tsvg', str(DOT), '-o', str(SVG)], check=True)
    else:
        print('Graphviz dot not installed: wrote %s only' % DOT)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
