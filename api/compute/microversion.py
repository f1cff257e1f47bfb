"""Compute microversions we honour, one line each. Raise MAX only with the
behaviour of every version up to it in place.

2.1  - the base API
2.11 - os-services: forced_down, PUT /os-services/force-down
2.2  - keypairs: type; 201 on create, 204 on delete
2.3  - servers: more OS-EXT-SRV-ATTR fields for admins
2.6  - servers: POST /servers/{id}/remote-consoles (the os-get*Console
       actions stay for older versions)
2.9  - servers: locked
2.10 - keypairs: user_id for admins
2.19 - servers: description
2.23 - os-migrations: migration_type
2.26 - servers: tags (always empty here)
2.28 - hypervisors: cpu_info is a JSON object
2.37 - servers: networks is required on create ("auto", "none" or a list)
2.41 - aggregates: uuid
2.45 - servers: createImage answers 202 {"image_id"} and no Location header
2.47 - servers: the flavor is embedded (original_name, vcpus, ram, ...)
2.53 - os-services and os-hypervisors: ids are UUIDs; PUT /os-services/{id}
       with status, disabled_reason and forced_down
2.55 - flavors: description, PUT /flavors/{id}
2.56 - servers: migrate may name the destination host
2.59 - os-migrations: uuid; limit and marker paging
2.61 - flavors: extra_specs in flavor views
"""

from api import microversion

MIN = '2.1'
MAX = '2.61'

negotiator = microversion.Negotiator('compute', MIN, MAX,
                                     legacy_header='X-OpenStack-Nova-API-Version')
