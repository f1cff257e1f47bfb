#!/usr/bin/env python3
"""The boundaries we keep, checked (not remembered):

B1 compute/ never imports the database (common.db, sqlalchemy, or the
   network service's books in network/, which read it): agents hold no
   database credentials. Their data plane is compute/network/.
B2 no service imports another service's manager; they talk through rpcapi.
B3 common/ does not import the services (api, scheduler, compute,
   blockstore, imagestore, consoleproxy, network) at module level.
B4 tests never assign to CONF directly; they use set_override.
B5 no print() in service code (logging only); CLIs (manage) may print.
"""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = ('api', 'scheduler', 'compute', 'blockstore', 'imagestore', 'consoleproxy',
            'network')
PRINT_OK = {'common/manage.py'}


def imports(tree, top_level_only=False):
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            for a in node.names:
                yield node.lineno, '%s.%s' % (node.module, a.name)


def check(path, rel):
    tree = ast.parse(path.read_text(), str(path))
    pkg = rel.split('/')[0]
    errs = []
    for line, mod in imports(tree):
        if pkg == 'compute' and (mod.startswith('common.db') or mod.startswith('sqlalchemy') or
                                 mod.split('.')[0] == 'network'):
            errs.append((line, 'B1 compute imports the database: %s' % mod))
        if mod.endswith('.manager') or mod.endswith('manager'):
            owner = mod.split('.')[0]
            if owner in SERVICES and owner != pkg and pkg in SERVICES:
                errs.append((line, 'B2 imports another service\'s manager: %s' % mod))
    if pkg == 'common':
        for line, mod in imports(tree, top_level_only=True):
            if mod.split('.')[0] in SERVICES:
                errs.append((line, 'B3 common imports a service: %s' % mod))
    for node in ast.walk(tree):
        if pkg == 'tests' and isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and 'CONF' in ast.unparse(t).split('.')[0]:
                    errs.append((node.lineno, 'B4 assigns to CONF; use set_override'))
        if (pkg in SERVICES or pkg == 'common') and rel not in PRINT_OK and \
                isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'print':
            errs.append((node.lineno, 'B5 print in service code; use logging'))
    return errs


def main():
    failed = 0
    for pkg in SERVICES + ('common', 'tests'):
        for path in sorted((ROOT / pkg).rglob('*.py')):
            rel = str(path.relative_to(ROOT))
            for line, msg in check(path, rel):
                print('%s:%d: %s' % (rel, line, msg))
                failed += 1
    if failed:
        print('%d boundary violation(s)' % failed)
        return 1
    print('boundaries: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
