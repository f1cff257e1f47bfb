"""The functional tier: the session's cloud (tests/fixtures/cloud.py) and
the tiny guest image uploaded to it once."""

import pytest


@pytest.fixture(scope='session')
def image(cloud):
    """The tiny guest image, uploaded once for every test of the session."""
    return cloud.upload_tiny_image()
