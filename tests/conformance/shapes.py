"""Compare a response with an upstream sample by shape: the same keys and
the same JSON value types, recursively, no more and no fewer. Values may
differ (ids, names, times, counts).

The rules, where a value alone cannot tell the shape:

- numbers: an integer and a float are both a number (samples write 1.0
  where a count is 1 and the other way round);
- null: a null on either side matches any scalar (string, number, boolean)
  on the other. Samples are captured in one state; a field that is a string
  in that state is null in another (``task_state``, ``terminated_at``,
  ``description``, a fault's ``details``). A null never stands for an
  object or a list;
- lists: each element of ours is compared with the sample's element at the
  same place, or its first when the sample's list is shorter;
  an empty list on either side says nothing about the elements;
- maps whose keys are data, not schema (``metadata``, ``extra_specs``,
  ``addresses``, ...; ``FREE_MAPS`` and per-operation ``free`` paths): the
  keys may differ, the values are compared with the sample's first value.
"""

import re

FREE_MAPS = frozenset({
    'metadata', 'extra_specs', 'addresses', 'properties', 'image_metadata',
    'volume_image_metadata', 'qos_specs',
})


def kind(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'list'
    if isinstance(value, dict):
        return 'object'
    return type(value).__name__


def differences(sample, ours, path='', free=()):
    """A list of human-readable differences (empty when the shapes match)."""
    ks, ko = kind(sample), kind(ours)
    if ks != ko:
        scalars = ('string', 'number', 'boolean')
        if 'null' in (ks, ko) and (ks in scalars or ko in scalars):
            return []
        return ['%s: sample has %s, ours %s (%r)' % (path or '<body>', ks, ko, _short(ours))]
    if ks == 'list':
        if not sample or not ours:
            return []
        out = []
        for i, item in enumerate(ours):
            model = sample[i] if i < len(sample) else sample[0]
            out += differences(model, item, '%s[%d]' % (path, i), free)
        return out
    if ks != 'object':
        return []
    name = path.rsplit('.', 1)[-1].split('[')[0]
    if name in FREE_MAPS or _strip_index(path) in free:
        if not sample or not ours:
            return []
        first = next(iter(sample.values()))
        out = []
        for key, value in ours.items():
            out += differences(first, value, '%s.%s' % (path, key), free)
        return out
    out = []
    for key in sorted(set(sample) - set(ours)):
        out.append('%s: missing key %r' % (path or '<body>', key))
    for key in sorted(set(ours) - set(sample)):
        out.append('%s: extra key %r' % (path or '<body>', key))
    for key in sorted(set(sample) & set(ours)):
        out += differences(sample[key], ours[key], '%s.%s' % (path, key) if path else key,
                           free)
    return out


def _strip_index(path):
    return re.sub(r'\[\d+\]', '[]', path)


def _short(value):
    text = repr(value)
    return text if len(text) < 60 else text[:57] + '...'
