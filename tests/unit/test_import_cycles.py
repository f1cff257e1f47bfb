"""No import cycles among our modules at module level (the structure
issue's rule): a module that needs another only inside a function says so
with a late import, and the lint (tools/check_boundaries.py) reads those
too. ``from package import module`` depends on the module, not on the
package's __init__ (which may import its own submodules)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ('api', 'scheduler', 'conductor', 'compute', 'blockstore', 'imagestore',
            'consoleproxy', 'network', 'common', 'cli')


def graph():
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob('*.py'):
            parts = path.relative_to(ROOT).with_suffix('').parts
            name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
            mods[name] = path
    out = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                subs = {'%s.%s' % (node.module, a.name) for a in node.names} & set(mods)
                deps |= subs
                if len(subs) < len(node.names) and node.module in mods:
                    deps.add(node.module)
        out[name] = deps - {name}
    return out


def cycles(g):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_cycles_are_found():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_no_import_cycles():
    assert cycles(graph()) == []
