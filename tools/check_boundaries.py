#!/usr/bin/env python3
"""The boundaries we keep, checked (not remembered).

A module's imports are read at every level (inside functions too), and
the modules they load are followed through the repository's own modules:
a module may not reach a forbidden one through a chain of imports either
(compute -> X -> common.db breaks B1). A chain goes on through what
loading each module loads (its module-level imports, and its parent
packages); an import inside a function of a module further down runs only
if that function is called, which the lint cannot know. A violation is
reported once, at the import where the chain leaves the module's own area
(compute/ for B1), with the chain; the import graph is built once.

B1 compute/ never reaches the database (common.db, sqlalchemy): agents
   hold no database credentials.
B2 no service reaches another service's manager; they talk through rpcapi.
B3 common/ imports nothing of ours outside common/ (no service, no cli/).
B4 tests never assign to CONF directly; they use set_override.
B5 no print() in service code (logging only); the CLIs in cli/ may print.
B6 flask.request (or `from flask import request`) only in the HTTP edges:
   api/, imagestore/api/, consoleproxy/, dashboard/ and common/web.py (the
   edges' shared per-request plumbing). Uses, not chains: a service's
   cmd.py builds its app, altostack-manage runs api/*/bootstrap.py.
B7 a virt driver (the module of compute/virt/, or the package under it,
   that holds a ComputeDriver: libvirt/, fake.py) never reaches another.
B8 the virt layer (compute/virt/) reaches nothing of compute/ outside it.
B9 conductor/ may use the database but never reaches api/ or flask.
B10 dashboard/ talks to the cloud over HTTP only: it never reaches
   common.db (nor sqlalchemy) nor any service package.
B11 of compute/, the other services and cli/ reach only compute.rpcapi:
   what the agent shares with the volume service lives in common/host/.
"""

import ast
import collections
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = ('api', 'scheduler', 'compute', 'blockstore', 'imagestore', 'consoleproxy',
            'network', 'conductor', 'dashboard')
PACKAGES = SERVICES + ('common', 'cli')   # the import graph's modules
HTTP_EDGES = ('api', 'imagestore.api', 'consoleproxy', 'dashboard', 'common.web')
VIRT = 'compute.virt'

Import = collections.namedtuple('Import', 'line name nested')


def under(name, *prefixes):
    return any(name == p or name.startswith(p + '.') for p in prefixes)


# -- reading one module -----------------------------------------------------

def module_name(rel):
    parts = list(pathlib.PurePosixPath(rel).with_suffix('').parts)
    is_pkg = parts[-1] == '__init__'
    if is_pkg:
        parts.pop()
    return '.'.join(parts), is_pkg


def imports(tree, modname='', is_pkg=False):
    """Import(line, dotted name, nested) for every import statement at any
    level; ``from X import Y`` gives X and X.Y (Y may be a module).
    Relative imports are resolved against ``modname``."""
    def walk(node, nested):
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.Lambda))
            if isinstance(child, ast.Import):
                for a in child.names:
                    yield Import(child.lineno, a.name, nested)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ''
                if child.level:
                    pkg = modname.split('.') if is_pkg else modname.split('.')[:-1]
                    pkg = pkg[:len(pkg) - (child.level - 1)]
                    base = '.'.join(pkg + ([base] if base else []))
                if not base:
                    continue
                if child.module:
                    yield Import(child.lineno, base, nested)
                for a in child.names:
                    if a.name != '*':
                        yield Import(child.lineno, '%s.%s' % (base, a.name), nested)
            yield from walk(child, inner)
    yield from walk(tree, False)


def request_uses(tree):
    """Lines that use flask's request object."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ('flask', 'flask.globals'):
            lines += [node.lineno for a in node.names if a.name == 'request']
        elif isinstance(node, ast.Attribute) and node.attr == 'request' and \
                ast.unparse(node.value) in ('flask', 'flask.globals'):
            lines.append(node.lineno)
    return sorted(set(lines))


def defines_driver(tree):
    return any(isinstance(n, ast.ClassDef) and
               any(ast.unparse(b).split('.')[-1] == 'ComputeDriver' for b in n.bases)
               for n in tree.body)


class Module:
    def __init__(self, path, rel):
        self.path, self.rel = path, rel
        self.name, self.is_pkg = module_name(rel)
        self.pkg = self.name.split('.')[0]
        self.tree = ast.parse(path.read_text(), str(path))
        self.imports = list(imports(self.tree, self.name, self.is_pkg))
        self.request_lines = request_uses(self.tree)


# -- the rules ---------------------------------------------------------------

class Rule:
    """``subject(m)``: the modules the rule is about; ``forbidden(m, name)``:
    what they may not reach; ``inside(m, name)``: modules of the subject's
    own area, checked where they are subjects themselves (not followed);
    ``transitive`` False: only the module's own text counts."""

    def __init__(self, code, what, subject, forbidden, inside, key=lambda m: '',
                 transitive=True):
        self.code, self.what = code, what
        self.subject, self.forbidden, self.inside, self.key = subject, forbidden, inside, key
        self.transitive = transitive

    def message(self, detail):
        return '%s %s: %s' % (self.code, self.what, detail)


def is_manager(name):
    parts = name.split('.')
    return parts[0] in SERVICES and parts[-1] == 'manager'


def rules(graph):
    edge = graph.is_edge
    return [
        Rule('B1', 'compute reaches the database',
             lambda m: m.pkg == 'compute',
             lambda m, n: under(n, 'common.db', 'sqlalchemy'),
             lambda m, n: under(n, 'compute')),
        Rule('B2', "reaches another service's manager",
             lambda m: m.pkg in SERVICES,
             lambda m, n: is_manager(n) and n.split('.')[0] != m.pkg,
             lambda m, n: under(n, m.pkg), key=lambda m: m.pkg),
        Rule('B3', 'common reaches beyond common',
             lambda m: m.pkg == 'common',
             lambda m, n: n.split('.')[0] in PACKAGES and n.split('.')[0] != 'common',
             lambda m, n: under(n, 'common')),
        Rule('B6', 'flask.request outside the HTTP edges',
             lambda m: not edge(m.name),
             lambda m, n: n in ('flask.request', 'flask.globals.request'),
             lambda m, n: False, transitive=False),
        Rule('B7', 'a virt driver reaches another driver',
             lambda m: graph.driver_of(m.name) is not None,
             lambda m, n: graph.driver_of(n) not in (None, graph.driver_of(m.name)),
             lambda m, n: graph.driver_of(n) == graph.driver_of(m.name),
             key=lambda m: graph.driver_of(m.name)),
        Rule('B8', 'the virt layer reaches compute outside compute/virt',
             lambda m: under(m.name, VIRT),
             lambda m, n: n.startswith('compute.') and not under(n, VIRT),
             lambda m, n: under(n, VIRT)),
        Rule('B9', 'conductor reaches api or flask',
             lambda m: m.pkg == 'conductor',
             lambda m, n: under(n, 'api', 'flask'),
             lambda m, n: under(n, 'conductor')),
        Rule('B10', 'dashboard reaches the database or a service',
             lambda m: m.pkg == 'dashboard',
             lambda m, n: under(n, 'common.db', 'sqlalchemy') or (
                 n.split('.')[0] in PACKAGES and n.split('.')[0] not in ('common',
                                                                         'dashboard')),
             lambda m, n: under(n, 'dashboard')),
        Rule('B11', 'reaches compute beyond compute.rpcapi',
             lambda m: m.pkg in SERVICES + ('cli',) and m.pkg != 'compute',
             lambda m, n: n.startswith('compute.') and n != 'compute.rpcapi',
             lambda m, n: under(n, m.pkg), key=lambda m: m.pkg),
    ]


# -- the import graph --------------------------------------------------------

class Graph:
    """The repository's own modules and who imports whom (built once)."""

    def __init__(self, modules):
        self.modules = {m.name: m for m in modules}
        # a driver: the module of compute/virt/, or the package under it,
        # that holds a ComputeDriver
        self.drivers = {'.'.join(m.name.split('.')[:3]) for m in modules
                        if under(m.name, VIRT) and m.name.count('.') >= 2 and
                        defines_driver(m.tree)}
        self._follow = {}
        self.rules = rules(self)

    def is_edge(self, name):
        return under(name, *HTTP_EDGES)

    def driver_of(self, name):
        for d in self.drivers:
            if under(name, d):
                return d
        return None

    def resolve(self, name):
        """The module an imported name loads: the longest module prefix of
        it, else the name itself (a third-party module or a missing one)."""
        parts = name.split('.')
        for i in range(len(parts), 0, -1):
            cand = '.'.join(parts[:i])
            if cand in self.modules:
                return cand
        return name

    def targets(self, mod, nested=True):
        """(Import, module) for each module ``mod`` loads, its parent
        packages included (importing a.b.c runs a and a.b); ``nested``
        False: only what loading ``mod`` loads (no imports in functions)."""
        seen = set()
        for imp in mod.imports:
            if imp.nested and not nested:
                continue
            target = self.resolve(imp.name)
            parts = target.split('.')
            for i in range(1, len(parts) + 1):
                t = '.'.join(parts[:i])
                if (t in self.modules or i == len(parts)) and t != mod.name and \
                        (imp.line, t) not in seen:
                    seen.add((imp.line, t))
                    yield imp, t

    def chain_to(self, rule, subject, start):
        """The shortest chain of module-level imports from ``start`` to a
        module ``rule`` forbids ``subject``, not going back inside the
        subject's own area; [(module, Import, next module), ...] or None."""
        key = (rule.code, rule.key(subject), start)
        if key in self._follow:
            return self._follow[key]
        prev = {start: None}
        queue = collections.deque([start])
        found = None
        while queue:
            name = queue.popleft()
            mod = self.modules.get(name)
            if mod is None:
                continue
            hits = []
            for imp, t in self.targets(mod, nested=False):
                if rule.inside(subject, t):
                    continue
                if rule.forbidden(subject, t) or rule.forbidden(subject, imp.name):
                    hits.append((imp.line, -len(t), t, imp))  # the first, most precise
                elif t not in prev:
                    prev[t] = (name, imp)
                    queue.append(t)
            if hits:
                _line, _len, found, imp = min(hits)
                prev[found] = (name, imp)
                break
        chain = None
        if found:
            chain = []
            t = found
            while prev[t] is not None:
                name, imp = prev[t]
                chain.append((name, imp, t))
                t = name
            chain.reverse()
        self._follow[key] = chain
        return chain

    def describe(self, chain):
        hops = []
        for name, imp, t in chain:
            hops.append('%s (%s:%d%s)' % (t, self.modules[name].rel, imp.line,
                                          ', in a function' if imp.nested else ''))
        return ' -> '.join(hops)

    def check_module(self, mod):
        errs = direct_errors(mod, self.rules)
        for rule in self.rules:
            if not rule.subject(mod) or not rule.transitive:
                continue
            reported = {line for line, msg in errs if msg.startswith(rule.code + ' ')}
            for imp, t in self.targets(mod):
                if imp.line in reported or rule.inside(mod, t):
                    continue
                if rule.forbidden(mod, t):
                    detail = t
                else:
                    chain = self.chain_to(rule, mod, t) if t in self.modules else None
                    if not chain:
                        continue
                    detail = '%s -> %s' % (t, self.describe(chain))
                reported.add(imp.line)
                errs.append((imp.line, rule.message(detail)))
        return errs


def direct_errors(mod, rule_list):
    """What one module's own text breaks: imports of forbidden names,
    flask.request, print, CONF assignments."""
    errs = []
    for rule in rule_list:
        if not rule.subject(mod):
            continue
        lines = set()
        for imp in sorted(mod.imports, key=lambda i: (i.line, -len(i.name))):
            if imp.line not in lines and rule.forbidden(mod, imp.name):
                lines.add(imp.line)
                errs.append((imp.line, rule.message(
                    imp.name + (' (in a function)' if imp.nested else ''))))
        if rule.code == 'B6':
            errs += [(line, rule.message('flask.request'))
                     for line in mod.request_lines if line not in lines]
    for node in ast.walk(mod.tree):
        if mod.pkg == 'tests' and isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and 'CONF' in ast.unparse(t).split('.')[0]:
                    errs.append((node.lineno, 'B4 assigns to CONF; use set_override'))
        if (mod.pkg in SERVICES or mod.pkg == 'common') and \
                isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'print':
            errs.append((node.lineno, 'B5 print in service code; use logging'))
    return errs


def check(path, rel):
    """The errors of one file's own text, as if it were at ``rel`` (no
    chains: check_tree follows those)."""
    return sorted(direct_errors(Module(pathlib.Path(path), rel), Graph([]).rules))


def check_tree(root):
    """[(rel, line, message)] for the tree at ``root``."""
    root = pathlib.Path(root)
    modules = [Module(p, str(p.relative_to(root)))
               for pkg in PACKAGES for p in sorted((root / pkg).rglob('*.py'))]
    graph = Graph(modules)
    errs = []
    for mod in modules:
        errs += [(mod.rel, line, msg) for line, msg in graph.check_module(mod)]
    for p in sorted((root / 'tests').rglob('*.py')):
        errs += [(str(p.relative_to(root)), line, msg)
                 for line, msg in check(p, str(p.relative_to(root)))]
    return sorted(set(errs), key=lambda e: (e[0], e[1], e[2]))


def main():
    errs = check_tree(ROOT)
    for rel, line, msg in errs:
        print('%s:%d: %s' % (rel, line, msg))
    if errs:
        print('%d boundary violation(s)' % len(errs))
        return 1
    print('boundaries: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
