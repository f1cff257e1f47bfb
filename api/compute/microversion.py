"""Compute microversions we honour, one line each. Raise MAX only with the
behaviour of every version up to it in place.

2.1  - the base API
2.11 - os-services: forced_down, PUT /os-services/force-down
2.53 - os-services: ids are UUIDs; PUT /os-services/{id} with status,
       disabled_reason and forced_down; the old action URLs are gone
"""

from api import microversion

MIN = '2.1'
MAX = '2.53'

negotiator = microversion.Negotiator('compute', MIN, MAX,
                                     legacy_header='X-OpenStack-Nova-API-Version')
