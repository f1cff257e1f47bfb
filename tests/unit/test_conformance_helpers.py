"""The conformance suite's own helpers (tests/conformance): shape
comparison, body generation, sample requests pointed at real resources.
No cloud and no package index needed."""

import jsonschema

from tests.conformance import bodies
from tests.conformance import runner
from tests.conformance import shapes

R = shapes.Rules


def test_same_shape_different_values():
    sample = {'server': {'id': 'a', 'progress': 0, 'links': [{'href': 'x', 'rel': 'self'}]}}
    ours = {'server': {'id': 'b', 'progress': 1.5, 'links': [{'href': 'y', 'rel': 'self'},
                                                              {'href': 'z', 'rel': 'bookmark'}]}}
    assert shapes.differences(sample, ours) == []


def test_missing_extra_and_type():
    diffs = shapes.differences({'a': 1, 'b': 'x', 'c': {}}, {'a': 1, 'c': [], 'd': True})
    assert diffs == ["<body>: missing key 'b'", "<body>: extra key 'd'",
                     'c: sample has object, ours list ([])']


def test_null_matches_scalars_only():
    assert shapes.differences({'a': 'x', 'b': None}, {'a': None, 'b': 3}) == []
    assert shapes.differences({'a': {}}, {'a': None}) != []


def test_list_elements_match_their_closest_sample():
    sample = {'v': [{'id': 'a', 'scope': {'domain': {}}}, {'id': 'b', 'scope': {'project': {}}}]}
    assert shapes.differences(sample, {'v': [{'id': 'c', 'scope': {'project': {}}}]}) == []


def test_free_maps_pagination_and_rules():
    sample = {'metadata': {'k': 'v'}, 'servers_links': [], 'hosts': {'h1': {'svc': {'up': True}}}}
    ours = {'metadata': {'other': 'w'}, 'hosts': {'h2': {'svc2': {'up': False}}}}
    assert shapes.differences(sample, ours, rules=R(free=['hosts', 'hosts.*'])) == []
    assert shapes.differences(sample, ours) != []
    assert shapes.differences({'a': []}, {'a': [], 'x[]': 1}) == ["<body>: extra key 'x[]'"]
    assert shapes.differences({'l': [{'a': 1}]}, {'l': [{'a': 1, 'b': 2}]},
                              rules=R(extra_ok=['l[].b'])) == []
    assert shapes.differences({'image': {'id': 'x'}}, {'image': ''},
                              rules=R(or_empty=['image'])) == []


def test_bodies_are_valid_smallest_and_largest():
    schema = {'type': 'object', 'required': ['reboot'], 'additionalProperties': False,
              'properties': {'reboot': {
                  'type': 'object', 'required': ['type'], 'additionalProperties': False,
                  'properties': {'type': {'enum': ['HARD', 'SOFT']},
                                 'extra': {'type': ['string', 'null'], 'maxLength': 3},
                                 'n': {'type': 'integer', 'minimum': 2}}}}}
    small, big = bodies.minimal(schema), bodies.maximal(schema, {'n': 7})
    assert small == {'reboot': {'type': 'HARD'}}
    assert big == {'reboot': {'type': 'HARD', 'extra': 'x', 'n': 7}}
    for body in (small, big):
        jsonschema.validate(body, schema)
    assert bodies.minimal({'type': 'object', 'properties': {'pause': {}},
                           'required': ['pause']}) == {'pause': None}


def test_sample_request_adapted():
    body = {'server': {'imageRef': 'made-up', 'personality': [], 'networks': [{'uuid': 'n'}]}}
    op = {'set': {'server.imageRef': '{image_id}', 'server.networks.0.uuid': '{net}',
                  'server.absent': 'x'}, 'drop': ['server.personality']}
    out = runner.adapt(body, op, {'image_id': 'IMG', 'net': 'NET'}, ['*.dns_name'])
    assert out == {'server': {'imageRef': 'IMG', 'networks': [{'uuid': 'NET'}]}}
    assert runner.fill('{"revertResize": null}', {}) == '{"revertResize": null}'
    assert runner.fill('{resp:a.b}', {}, {'a': {'b': None}}) is None
