import pytest

from tests.functional import cloud as cloud_mod


@pytest.fixture(scope='session')
def cloud():
    with cloud_mod.LocalCloud() as c:
        yield c


@pytest.fixture(scope='session')
def image(cloud):
    """The tiny guest image, uploaded once for every test of the session."""
    return cloud.upload_tiny_image()
