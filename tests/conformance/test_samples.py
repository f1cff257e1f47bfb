"""Every sample of an operation we serve, at every sample microversion we
claim: the sample request is accepted and the response has the sample's
keys and value types (README.md, section "Conformance"; the rules are in
shapes.py, the operations in operations.yaml)."""

from tests.conformance import runner


def test_sample(client, res, case):
    runner.run(client, res, case)
