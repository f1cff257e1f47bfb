"""Policy defaults of the API service, one module per API."""

from api.policies import compute
from api.policies import identity
from api.policies import network


def list_rules():
    return identity.RULES + compute.RULES + network.RULES
