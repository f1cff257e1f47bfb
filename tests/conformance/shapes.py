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
  an empty list on either side says nothing about the elements;
- lists: each element of ours is compared with the sample element it
  resembles most (samples mix shapes in one list: a domain-scoped and a
  project-scoped role assignment, the v2.0 and v2.1 version documents);
- maps whose keys are data, not schema (``metadata``, ``extra_specs``,
  ``addresses``, ...; ``FREE_MAPS`` and ``free`` rules): the keys may
  differ, the values are compared with the sample's first value;
- ``*_links`` keys (pagination: ``servers_links``...) appear only when
  there is a next page, so either side may lack them;
- the table's ``Rules`` (optional keys, extra keys, opaque values), each
  with its reason in operations.yaml.
"""

import fnmatch
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


class Rules:
    """Per-service and per-operation exceptions, each a list of fnmatch
    patterns over paths with list indices written ``[]`` (``a[].b``):

    free      maps whose keys are data (their values are compared with the
              sample's first value)
    optional  keys we may leave out (state-dependent, or an extension we
              do not announce)
    extra_ok  keys we may add (the real service returns them although its
              sample was captured without them)
    extra_any objects that may carry any extra key (an image's custom
              properties are top-level keys)
    opaque    values not compared at all (a driver's free-form blob)
    or_empty  objects for which an empty string may stand (Nova's ``image``
              of a server booted from a volume)
    nullable  objects or lists for which null may stand (state-dependent)

    In ``free`` patterns a ``*`` stands for one path segment (a host name in
    ``hosts.*``); elsewhere it spans any number of them.
    """

    KINDS = ('free', 'optional', 'extra_ok', 'extra_any', 'opaque', 'or_empty', 'nullable')

    def __init__(self, **kinds):
        for kind in self.KINDS:
            setattr(self, kind, tuple(kinds.pop(kind, ())))
        if kinds:
            raise ValueError('unknown rules: %s' % ', '.join(kinds))

    def merged(self, other):
        return Rules(**{k: getattr(self, k) + tuple(getattr(other, k)) for k in self.KINDS})

    @staticmethod
    def match(path, patterns):
        return any(fnmatch.fnmatchcase(path, p.replace('[]', '[[]]')) for p in patterns)

    @staticmethod
    def match_segments(path, patterns):
        parts = path.split('.')
        for p in patterns:
            pp = p.split('.')
            if len(pp) == len(parts) and all(
                    fnmatch.fnmatchcase(a, b.replace('[]', '[[]]'))
                    for a, b in zip(parts, pp, strict=True)):
                return True
        return False


def differences(sample, ours, path='', rules=None):
    """A list of human-readable differences (empty when the shapes match)."""
    rules = rules or Rules()
    norm = _strip_index(path)
    if path and Rules.match(norm, rules.opaque):
        return []
    ks, ko = kind(sample), kind(ours)
    if ks == 'object' and ours == '' and Rules.match(norm, rules.or_empty):
        return []
    if ko == 'null' and ks in ('object', 'list') and Rules.match(norm, rules.nullable):
        return []
    if ks != ko:
        scalars = ('string', 'number', 'boolean')
        if 'null' in (ks, ko) and (ks in scalars or ko in scalars):
            return []
        return ['%s: sample has %s, ours %s (%s)' % (path or '<body>', ks, ko, _short(ours))]
    if ks == 'list':
        if not sample or not ours:
            return []
        out = []
        for i, item in enumerate(ours):
            # The sample element ours resembles most: lists may mix shapes
            # (a domain-scoped and a project-scoped role assignment).
            tries = [differences(model, item, '%s[%d]' % (path, i), rules) for model in sample]
            out += min(tries, key=len)
        return out
    if ks != 'object':
        return []
    name = path.rsplit('.', 1)[-1].split('[')[0]
    if name in FREE_MAPS or (path and Rules.match_segments(norm, rules.free)):
        if not sample or not ours:
            return []
        first = next(iter(sample.values()))
        out = []
        for key, value in ours.items():
            out += differences(first, value, '%s.%s' % (path, key), rules)
        return out
    out = []
    where = path or '<body>'
    for key in sorted(set(sample) - set(ours)):
        if key.endswith('_links') or Rules.match(_join(norm, key), rules.optional):
            continue  # *_links: pagination, only when there is a next page
        out.append('%s: missing key %r' % (where, key))
    any_extra = Rules.match(norm, rules.extra_any)
    for key in sorted(set(ours) - set(sample)):
        if key.endswith('_links') or any_extra or Rules.match(_join(norm, key),
                                                               rules.extra_ok):
            continue
        out.append('%s: extra key %r' % (where, key))
    for key in sorted(set(sample) & set(ours)):
        out += differences(sample[key], ours[key], '%s.%s' % (path, key) if path else key,
                           rules)
    return out


def _join(norm, key):
    return '%s.%s' % (norm, key) if norm else key


def _strip_index(path):
    return re.sub(r'\[\d+\]', '[]', path)


def _short(value):
    text = repr(value)
    return text if len(text) < 60 else text[:57] + '...'
