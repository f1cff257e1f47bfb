"""No module but compute/manager.py touches the compute manager's private
names. The flows (coldmig, evacuate, live_migration, snapshot, resize,
reconcile, ...) share the manager's public objects instead: guests (locks,
power state, build, terminate), reports (states, events, resize steps),
netsync, block, scheduler, driver.

The check reads the code (ast), as tools/check_boundaries.py does. What it
calls the manager: any attribute chain ending in a name the flows give it
(``self.m``, ``self.mgr``, ``manager``, ``agent``, ...), and for any other
object, the private names ComputeManager itself defines (its ``_methods``
and the ``self._attributes`` it assigns): ``x._power`` is flagged unless
``x`` is ``self`` or ``cls``. getattr/setattr/hasattr with such a name
count too. Tests are not checked (they may set up a manager's insides).
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANAGER = 'compute/manager.py'
# What the flows and helpers call the agent they were given.
MANAGER_NAMES = {'m', 'mgr', 'manager', 'agent', 'compute_manager'}
ATTR_CALLS = {'getattr', 'setattr', 'hasattr', 'delattr'}


def _private(name):
    return name.startswith('_') and not name.startswith('__')


def manager_privates(source):
    """The private names ComputeManager defines in ``source``."""
    tree = ast.parse(source)
    cls = next(n for n in tree.body
               if isinstance(n, ast.ClassDef) and n.name == 'ComputeManager')
    names = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets
                         if isinstance(t, ast.Name) and _private(t.id))
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                isinstance(node.value, ast.Name) and node.value.id == 'self' and \
                _private(node.attr):
            names.add(node.attr)
    return names


def _last_name(expr):
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _is_self(expr):
    return isinstance(expr, ast.Name) and expr.id in ('self', 'cls')


def offences(source, privates, filename='<module>'):
    """[(line, text)] of uses of the manager's private names in ``source``."""
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _is_self(node.value):
            if node.attr in privates or _last_name(node.value) in MANAGER_NAMES:
                out.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and getattr(node.func, 'id', None) in ATTR_CALLS \
                and len(node.args) >= 2 and not _is_self(node.args[0]):
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and \
                    _private(name.value) and (name.value in privates or
                                              _last_name(node.args[0]) in MANAGER_NAMES):
                out.append((node.lineno, ast.unparse(node)))
    return sorted(out)


def service_modules():
    for pkg in sorted(p.parent for p in ROOT.glob('*/__init__.py')):
        if pkg.name == 'tests':
            continue
        for path in sorted(pkg.rglob('*.py')):
            rel = path.relative_to(ROOT).as_posix()
            if rel != MANAGER:
                yield rel, path


def test_no_module_uses_the_compute_managers_private_names():
    privates = manager_privates((ROOT / MANAGER).read_text())
    found = ['%s:%d: %s' % (rel, line, text)
             for rel, path in service_modules()
             for line, text in offences(path.read_text(), privates, rel)]
    assert not found, ('the compute manager\'s private names used outside %s (share a '
                       'public object instead, e.g. guests, reports, netsync):\n%s'
                       % (MANAGER, '\n'.join(found)))


def test_the_check_sees_the_ways_in():
    privates = manager_privates(
        'class ComputeManager:\n'
        '    def __init__(self):\n'
        '        self._flag = False\n'
        '        self.public = 1\n'
        '    def _step(self):\n'
        '        pass\n'
        '    def endpoint(self, ctx):\n'
        '        pass\n')
    assert privates == {'_flag', '_step'}
    bad = ('self.m._anything()\n'
           'mgr._step()\n'
           'self.agent._flag = True\n'
           'other._step()\n'
           "getattr(self.manager, '_whatever')\n"
           "setattr(thing, '_flag', 1)\n")
    assert sorted(line for line, _text in offences(bad, privates)) == [1, 2, 3, 4, 5, 6]
    fine = ('self._step()\n'
            'self._own = 1\n'
            'self.m.guests.lock(uuid)\n'
            'mgr.reports.update(ctx, inst, {})\n'
            'other._unrelated()\n'
            "getattr(thing, '_unrelated')\n"
            'x.__class__\n')
    assert offences(fine, privates) == []
