"""Policy defaults of the API service, one module per API."""

from api.policies import compute
from api.policies import identity
from api.policies import network
from api.policies import volume


def list_rules():
    return identity.RULES + compute.RULES + network.RULES + volume.RULES
