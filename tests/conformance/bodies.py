"""The smallest and the largest body a JSON Schema accepts.

``minimal(schema)`` takes only required properties, null where null is
allowed, the shortest strings and the lowest numbers; ``maximal(schema)``
takes every property, avoids null and fills lists with one item. ``values``
maps property names to the real values the cloud needs (a host, a flavor
id, an image id): a generated value is replaced by it when the schema
accepts it. The caller validates the result with the schema (a pattern we
cannot satisfy by construction is reported, not guessed at).
"""

import uuid

_STRINGS = ('x', 'auto', 'none', '1', 'true', 'HARD', 'SOFT', 'serial', 'vnc', 'novnc',
            '192.168.1.1', '2001:db8::1', '2026-01-01T00:00:00Z', 'disabled', 'enabled')


def minimal(schema, values=None):
    return _gen(schema, False, values or {}, None)


def maximal(schema, values=None):
    return _gen(schema, True, values or {}, None)


def _types(schema):
    t = schema.get('type')
    if t is None:
        return []
    return list(t) if isinstance(t, (list, tuple)) else [t]


def _gen(schema, big, values, name):
    import jsonschema
    if name in values:
        try:
            jsonschema.validate(values[name], schema)
            return values[name]
        except jsonschema.ValidationError:
            pass
    if 'enum' in schema:
        choices = [c for c in schema['enum'] if c is not None] if big else list(schema['enum'])
        return (choices or list(schema['enum']))[0]
    if 'const' in schema:
        return schema['const']
    for alt_key in ('oneOf', 'anyOf'):
        if alt_key in schema:
            alts = schema[alt_key]
            pick = max(alts, key=lambda a: len(a.get('properties', {}))) if big else alts[0]
            merged = dict(schema)
            del merged[alt_key]
            merged.update(pick)
            return _gen(merged, big, values, name)
    if 'allOf' in schema:
        merged = {k: v for k, v in schema.items() if k != 'allOf'}
        for part in schema['allOf']:
            merged.update(part)
        return _gen(merged, big, values, name)
    types = _types(schema)
    if not types:
        if 'properties' in schema or 'required' in schema:
            types = ['object']
        else:
            return None  # anything goes: null is what clients send
    if not big and 'null' in types:
        return None
    t = next((t for t in types if t != 'null'), 'null')
    if t == 'null':
        return None
    if t == 'object':
        props = schema.get('properties', {})
        keys = list(props) if big else list(schema.get('required', []))
        return {k: _gen(props.get(k, {}), big, values, k) for k in keys}
    if t == 'array':
        count = max(schema.get('minItems', 0), 1 if big else 0)
        items = schema.get('items', {})
        return [_gen(items, big, values, name) for _ in range(count)]
    if t == 'boolean':
        return big
    if t in ('integer', 'number'):
        low = schema.get('minimum', 0 if not big else 1)
        if schema.get('exclusiveMinimum') is True:
            low += 1
        return int(low)
    if t == 'string':
        return _string(schema, big)
    return None


def _string(schema, big):
    import jsonschema
    fmt = schema.get('format')
    if fmt == 'uuid':
        return str(uuid.uuid4())
    if fmt in ('date-time',):
        return '2026-01-01T00:00:00Z'
    if fmt == 'ipv4':
        return '192.168.1.1'
    if fmt == 'ipv6':
        return '2001:db8::1'
    low = schema.get('minLength', 1 if big else 0)
    high = schema.get('maxLength', 64)
    plain = {k: v for k, v in schema.items() if k != 'format'}
    for candidate in _STRINGS + ('x' * max(low, 1),):
        text = candidate if len(candidate) >= low else candidate + 'x' * (low - len(candidate))
        text = text[:high]
        try:
            jsonschema.validate(text, plain)
            return text
        except jsonschema.ValidationError:
            continue
    return 'x' * max(low, 1)
