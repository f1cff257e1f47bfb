"""Every RPC interface changes only with its version.

For each ``<service>/rpcapi.py`` found in the tree (new ones are covered
without editing this file), a fingerprint of four parts:

    version    the client's VERSION and its manager's target version
    client     each public method of the client class: name, parameters
    endpoint   each public method of ``<service>/manager.py``'s endpoint
               classes (a messaging.Target ``target``): every public method
               is callable over the bus (DefaultRPCAccessPolicy)
    payload    the keys of the dicts the services send for instances,
               migrations, volumes ... (PAYLOADS below)

is compared with tests/unit/rpc_fingerprints.txt (``<service> <version>
<hash>``). A part that changed while the version stayed fails. To record
a change: bump VERSION (client and manager target, with a line in the
version history), then rewrite the file with
``tools/update_rpc_fingerprints.sh`` (this test with
ALTOSTACK_UPDATE_FINGERPRINTS=1), which refuses while a version stays.
"""

import ast
import glob
import hashlib
import importlib
import inspect
import os
import textwrap

import oslo_messaging as messaging

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILE = os.path.join(ROOT, 'tests', 'unit', 'rpc_fingerprints.txt')
PARTS = ('version', 'client', 'endpoint', 'payload')

# The functions that build the dicts a service's clients send (module:name).
# A builder that moves: point its entry here at the new place (the keys stay).
PAYLOADS = {
    'compute': ['common.db.instances:to_dict', 'conductor.resizes:to_dict',
                'blockstore.views:to_dict', 'blockstore.views:attachment_to_dict'],
    'blockstore': ['blockstore.views:to_dict', 'blockstore.views:snapshot_to_dict'],
}


def services():
    return sorted(os.path.basename(os.path.dirname(p))
                  for p in glob.glob(os.path.join(ROOT, '*', 'rpcapi.py')))


def _signatures(cls, endpoint=False):
    """Public methods and their parameters. On an endpoint class only those
    the dispatcher can call: their first parameter is the request context
    (init_host and periodic tasks are the service's own, not RPC)."""
    out = []
    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith('_'):
            params = list(inspect.signature(fn).parameters.values())[1:]  # no self
            if endpoint and (not params or params[0].name != 'context'):
                continue
            out.append('%s(%s)' % (name, ', '.join(str(p) for p in params)))
    return out


def _client_class(mod):
    classes = [c for _, c in inspect.getmembers(mod, inspect.isclass)
               if c.__module__ == mod.__name__ and hasattr(c, 'VERSION')]
    assert len(classes) == 1, '%s: one client class with a VERSION, found %s' % (
        mod.__name__, classes)
    return classes[0]


def _endpoints(service):
    mod = importlib.import_module('%s.manager' % service)
    found = [c for _, c in inspect.getmembers(mod, inspect.isclass)
             if c.__module__ == mod.__name__
             and isinstance(getattr(c, 'target', None), messaging.Target)]
    assert found, ('%s/manager.py has no endpoint class (a class with a messaging.Target '
                   '"target"): where does the server of %s/rpcapi.py live?' % (service, service))
    return found


def _dict_keys(ref):
    """The string keys of the dict literals ``module:function`` returns."""
    modname, name = ref.split(':')
    try:
        fn = getattr(importlib.import_module(modname), name)
    except (ImportError, AttributeError):
        raise AssertionError('the payload builder %s is gone: point PAYLOADS in %s at where '
                             'it moved' % (ref, os.path.relpath(__file__, ROOT))) from None
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            keys |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    assert keys, '%s returns no dict literal to read its keys from' % ref
    return sorted(keys)


def describe(service):
    """{part: [lines]} of ``service``'s RPC interface."""
    mod = importlib.import_module('%s.rpcapi' % service)
    client = _client_class(mod)
    endpoints = _endpoints(service)
    desc = {
        'version': ['client %s' % client.VERSION] + [
            'endpoint %s %s' % (c.__name__, c.target.version) for c in endpoints],
        'client': _signatures(client),
        'endpoint': [line for c in endpoints for line in _signatures(c, endpoint=True)],
        # The builder's name, not its module: moving it is no interface change.
        'payload': ['%s: %s' % (ref.split(':')[1], ' '.join(_dict_keys(ref)))
                    for ref in PAYLOADS.get(service, ())],
    }
    return client.VERSION, desc


def _hash(lines):
    return hashlib.sha256('\n'.join(lines).encode()).hexdigest()[:8]


def fingerprint(desc):
    """One token, a short hash per part, so a mismatch tells which part changed."""
    return '-'.join(_hash(desc[p]) for p in PARTS)


def _vtuple(v):
    return tuple(int(x) for x in v.split('.'))


def read_recorded():
    recorded = {}
    if os.path.exists(FILE):
        with open(FILE) as f:
            for line in f:
                if line.strip() and not line.startswith('#'):
                    service, version, digest = line.split()
                    recorded[service] = (version, digest)
    return recorded


def compare(recorded, current):
    """Problems as text, and the lines the file may be rewritten with."""
    problems, lines = [], []
    for service, (version, desc) in sorted(current.items()):
        digest = fingerprint(desc)
        old = recorded.get(service)
        if old is None:
            problems.append('%s: no fingerprint recorded yet (a new rpcapi)' % service)
        elif old[1] != digest:
            olds = old[1].split('-')
            changed = [p for i, p in enumerate(PARTS)
                       if i >= len(olds) or olds[i] != digest.split('-')[i]]
            what = '\n'.join('    %s now:\n%s' % (p, textwrap.indent('\n'.join(desc[p]),
                                                                      '      '))
                             for p in changed)
            if _vtuple(version) <= _vtuple(old[0]):
                problems.append(
                    '%s: the RPC interface changed (%s) but its version stayed %s (recorded '
                    '%s): bump VERSION in %s/rpcapi.py and the target of its manager, then '
                    'run tools/update_rpc_fingerprints.sh\n%s'
                    % (service, ', '.join(changed), version, old[0], service, what))
                lines.append('%s %s %s' % (service, old[0], old[1]))
                continue
            problems.append('%s: %s -> %s, changed %s: record it with '
                            'tools/update_rpc_fingerprints.sh' % (
                                service, old[0], version, ', '.join(changed)))
        elif old[0] != version:
            problems.append('%s: version %s -> %s with no change: record it with '
                            'tools/update_rpc_fingerprints.sh' % (service, old[0], version))
        lines.append('%s %s %s' % (service, version, digest))
    for service in sorted(set(recorded) - set(current)):
        problems.append('%s: recorded, but %s/rpcapi.py is gone: '
                        'tools/update_rpc_fingerprints.sh drops it' % (service, service))
    return problems, lines


def test_client_and_endpoint_versions_move_together():
    for service in services():
        _version, desc = describe(service)
        versions = {line.split()[-1] for line in desc['version']}
        assert len(versions) == 1, '%s: %s' % (service, desc['version'])


def test_rpc_interfaces_change_only_with_their_version():
    current = {s: describe(s) for s in services()}
    assert {'compute', 'scheduler', 'blockstore', 'imagestore'} <= set(current)
    problems, lines = compare(read_recorded(), current)
    if problems and os.environ.get('ALTOSTACK_UPDATE_FINGERPRINTS') == '1':
        with open(FILE, 'w') as f:
            f.write('# <service> <RPC version> <hash of version-client-endpoint-payload>\n'
                    '# Written by tools/update_rpc_fingerprints.sh; see '
                    'tests/unit/test_rpc_fingerprints.py.\n')
            f.write(''.join(line + '\n' for line in lines))
        problems, _ = compare(read_recorded(), current)
    assert not problems, '\n\n'.join(problems)


# -- the checker itself ---------------------------------------------------------
def _desc(**parts):
    return {p: parts.get(p, ['x']) for p in PARTS}


def test_a_change_without_a_bump_names_the_part():
    recorded = {'svc': ('1.2', fingerprint(_desc()))}
    problems, lines = compare(recorded, {'svc': ('1.2', _desc(client=['ping(context)']))})
    assert len(problems) == 1 and 'changed (client)' in problems[0]
    assert 'bump VERSION' in problems[0] and 'ping(context)' in problems[0]
    assert lines == ['svc 1.2 %s' % fingerprint(_desc())]  # not recorded: no bump


def test_a_change_with_a_bump_is_recorded():
    recorded = {'svc': ('1.2', fingerprint(_desc()))}
    new = _desc(payload=['m:f: a b'])
    problems, lines = compare(recorded, {'svc': ('1.10', new)})
    assert problems and 'changed payload' in problems[0]
    assert lines == ['svc 1.10 %s' % fingerprint(new)]
    assert compare({'svc': ('1.10', fingerprint(new))}, {'svc': ('1.10', new)}) == (
        [], lines)


def test_new_and_gone_services_are_reported():
    problems, lines = compare({'old': ('1.0', 'x')}, {'new': ('1.0', _desc())})
    assert any('new rpcapi' in p for p in problems)
    assert any('old: recorded' in p for p in problems)
    assert lines == ['new 1.0 %s' % fingerprint(_desc())]
