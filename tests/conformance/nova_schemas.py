"""Nova's request schemas (JSON Schema dicts) read from its sdist without
installing or importing Nova.

The schema modules are plain dicts built with ``copy.deepcopy``; they import
``nova.api.validation.parameter_types`` (also plain dicts) and a few
constants from the rest of Nova. We load those files from the unpacked sdist
into a private package namespace and answer every other ``nova.*`` import
with a stub whose attributes are harmless stand-ins (a translation function,
numbers for ``MAX_*`` limits, strings for state names).
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

from tests.conformance import upstream

_REAL = ('nova.api.validation.', 'nova.api.openstack.compute.schemas.')


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if name == '_':
            return lambda s, *a, **k: s
        if name.startswith('MAX_'):
            return 50
        if not name.isupper():
            raise AttributeError(name)  # a submodule: imported as a stub
        if name.endswith('S'):
            return [name.lower()]
        return name.lower()


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, root):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'nova' and not fullname.startswith('nova.'):
            return None
        rel = fullname.replace('.', '/')
        if (fullname + '.').startswith(_REAL):
            mod = self.root / (rel + '.py')
            if mod.exists():
                return importlib.util.spec_from_file_location(fullname, mod)
        # Packages (their __init__ pulls in the rest of Nova) and anything
        # else: stubs.
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        spec.submodule_search_locations = []
        return spec

    def create_module(self, spec):
        return _Stub(spec.name)

    def exec_module(self, module):
        pass


_cache = {}


def load(name):
    """The schema module ``name`` (e.g. 'servers', 'pause_server')."""
    if name in _cache:
        return _cache[name]
    root = upstream.source('nova')
    finder = _Finder(root)
    saved = {k: v for k, v in sys.modules.items() if k == 'nova' or k.startswith('nova.')}
    for k in saved:
        del sys.modules[k]
    sys.meta_path.insert(0, finder)
    try:
        import importlib
        module = importlib.import_module('nova.api.openstack.compute.schemas.' + name)
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == 'nova' or k.startswith('nova.')]:
            del sys.modules[k]
        sys.modules.update(saved)
    _cache[name] = module
    return module


def schema(name, attr):
    return getattr(load(name), attr)
