"""Run one sample case against the cloud: point the sample request at real
resources, send it, compare the response with the sample by shape."""

import copy
import json
import re

import pytest

from tests.conformance import cases
from tests.conformance import client as client_mod
from tests.conformance import shapes

# What a 400 says when the body itself is refused (ours and Nova's wording
# for a schema error, an unknown or unsupported action).
REFUSED = ('Invalid input', 'There is no such action', 'is not supported yet')

_TEMPLATE = re.compile(r'\{((?:resp:)?[A-Za-z_][\w.\-]*)\}')


def fill(value, ctx, resp=None):
    """Replace {name} with ctx[name] and {resp:a.b} with the response's
    value; a value that is one template keeps the replacement's type."""
    if not isinstance(value, str):
        return value

    def lookup(name):
        if name.startswith('resp:'):
            node = resp
            for part in name[5:].split('.'):
                node = node[int(part)] if isinstance(node, list) else node[part]
            return node
        return ctx[name]
    whole = _TEMPLATE.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return _TEMPLATE.sub(lambda m: str(lookup(m.group(1))), value)


def _walk(body, dotted):
    """(parent, key) of a dotted path in body, or None when it is absent."""
    parts = dotted.split('.')
    node = body
    for part in parts[:-1]:
        node = _child(node, part)
        if node is None:
            return None
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        return node, last
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node, int(last)
    return None


def _child(node, part):
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _drop_matching(node, patterns, path=''):
    """Remove the keys whose path (indices as []) matches a pattern."""
    if isinstance(node, list):
        for item in node:
            _drop_matching(item, patterns, path + '[]')
    elif isinstance(node, dict):
        for key in list(node):
            sub = '%s.%s' % (path, key) if path else key
            if shapes.Rules.match(sub, patterns):
                del node[key]
            else:
                _drop_matching(node[key], patterns, sub)


def adapt(body, op, ctx, unannounced=()):
    """The sample request with the table's `set` and `drop` applied (only
    where the sample has the field), without the fields of extensions we do
    not announce."""
    body = copy.deepcopy(body)
    _drop_matching(body, unannounced)
    for dotted in op.get('drop', ()):
        found = _walk(body, dotted)
        if found:
            parent, key = found
            del parent[key]
    for dotted, value in (op.get('set') or {}).items():
        found = _walk(body, dotted)
        if found:
            parent, key = found
            parent[key] = fill(value, ctx)
    return body


def _target_server(op, ctx):
    return ctx['action_server_id'] if '{action_server_id}' in op['path'] else ctx['server_id']


def follow_up(client, service, line, ctx, resp, version):
    method, rest = line.split(' ', 1)
    path, _, raw = rest.partition(' ')
    body = json.loads(fill(raw, ctx, resp)) if raw else None
    client.call(service, method, fill(path, ctx, resp), body, version=version)


def rules_for(case, announced):
    """The shape rules of the case's service and operation; for a service
    with extensions (Neutron), the keys of an extension we announce may be
    there, and those of one we do not may be missing."""
    spec, op = case.spec or {}, case.op
    rules = shapes.Rules(**(spec.get('rules') or {}))
    rules = rules.merged(shapes.Rules(**(op.get('rules') or {})))
    unannounced = []
    for alias, keys in (spec.get('extension_keys') or {}).items():
        if alias in announced:
            rules = rules.merged(shapes.Rules(extra_ok=keys))
        else:
            rules = rules.merged(shapes.Rules(optional=keys))
            unannounced += keys
    return rules, unannounced


def _context(res, case):
    ctx = dict(res, uniq=client_mod.fresh())
    for name, legacy in ((case.spec or {}).get('legacy_ids') or {}).items():
        if case.version and cases.vkey(case.version) < cases.vkey(legacy['below']):
            ctx[name] = ctx[legacy['use']]
    return ctx


def run(client, res, case):
    op = case.op
    if op.get('skip'):
        pytest.skip(op['skip'])
    try:
        body, sample = case.load('req'), case.load('resp')
    except ValueError as e:
        pytest.skip('upstream published a sample that is not valid JSON: %s' % e)
    ctx = _context(res, case)
    rules, unannounced = rules_for(case, res.get('extensions', ()))
    if body is not None:
        body = adapt(body, op, ctx, unannounced)
    for line in op.get('before', ()):
        follow_up(client, case.service, line, ctx, None, case.version)
    headers = {}
    if op.get('content_type'):
        headers['Content-Type'] = op['content_type']
    if op.get('subject_token'):
        headers['X-Subject-Token'] = client.token
    path = fill(op['path'], ctx)
    raw = None
    if op.get('content_type'):
        raw, body = json.dumps(body), None
    r = client.call(case.service, op['method'], path, body, version=case.version,
                    base=op.get('base'), headers=headers,
                    token=False if op.get('no_token') else op.get('token', True),
                    raw=raw)
    data = None
    if op.get('refusal_ok') and r.status_code in (400, 409):
        # The action cannot happen on this cloud (refusal_ok says why); a
        # refusal that is not about the body shows the body was accepted.
        assert not any(m in r.text for m in REFUSED), (
            '%s %s refused the sample body: %s' % (op['method'], path, r.text[:800]))
        return
    try:
        ok = r.status_code < 400 or (op.get('status_any') and r.status_code < 500)
        assert ok, '%s %s -> %d: %s' % (op['method'], path, r.status_code, r.text[:800])
        data = r.json() if r.content else None
        if op.get('wait'):
            client.wait_server(_target_server(op, ctx), op['wait'])
        if sample is not None:
            assert data is not None, 'the sample has a body; ours is empty'
            diffs = shapes.differences(sample, data, rules=rules)
            assert not diffs, 'shape differs from %s:\n  %s' % (
                case.resp.name, '\n  '.join(diffs[:40]))
    finally:
        for line in op.get('then', ()):
            try:
                follow_up(client, case.service, line, ctx, data, case.version)
            except (KeyError, TypeError):
                pass  # nothing was made to clean up
        if op.get('then') and op.get('wait') and op['wait'] != 'ACTIVE':
            client.wait_server(_target_server(op, ctx), 'ACTIVE')
