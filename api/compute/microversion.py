"""Compute microversions we honour, one line each, 2.1 to MAX. Raise MAX
only with the behaviour of every version up to it in place; no code may
branch on a version above MAX. "n/a" marks a change to an API this cloud
does not serve (at any version); "missing" one we should still do.

2.1  - the base API
2.2  - keypairs: type; 201 on create, 204 on delete
2.3  - servers: more OS-EXT-SRV-ATTR fields for admins; volumes_attached
       with delete_on_termination
2.4  - n/a (os-fixed-ips)
2.5  - n/a (the ip6 filter of GET /servers is not offered)
2.6  - servers: POST /servers/{id}/remote-consoles; the os-get*Console
       actions are gone (404) from here on
2.7  - flavor access to a public flavor is a 409 (at every version here)
2.8  - remote consoles: mks protocol, webmks type
2.9  - servers: locked (also in the PUT and rebuild answers)
2.10 - keypairs: user_id for admins
2.11 - os-services: forced_down, PUT /os-services/force-down
2.12 - n/a (os-virtual-interfaces)
2.13 - server groups: project_id and user_id
2.14 - evacuate: no onSharedStorage, no adminPass in the answer
2.15 - server groups: soft-affinity and soft-anti-affinity
2.16 - servers: host_status (admins)
2.17 - missing: the trigger_crash_dump action (an unknown action here: 400)
2.18 - URLs without a project id (ours never have one)
2.19 - servers: description (create, update, rebuild, views)
2.20 - n/a (shelve is not offered)
2.21 - os-instance-actions of deleted servers
2.22 - missing: force_complete of a live migration (servers/{id}/migrations)
2.23 - os-migrations: migration_type; GET /servers/{id}/migrations
2.24 - missing: DELETE /servers/{id}/migrations/{id} (abort a live migration)
2.25 - os-migrateLive: block_migration 'auto', no disk_over_commit
2.26 - servers: tags, the /servers/{id}/tags API, the tags, tags-any,
       not-tags and not-tags-any filters of GET /servers
2.27 - the OpenStack-API-Version header
2.28 - hypervisors: cpu_info is a JSON object
2.29 - evacuate: force
2.30 - os-migrateLive: force
2.31 - n/a (os-console-auth-tokens)
2.32 - tag on networks and block devices at create (accepted, not used)
2.33 - os-hypervisors: limit and marker
2.34 - os-migrateLive checks: here still before the answer (a 400 says why)
2.35 - keypairs: limit and marker
2.36 - network quotas and limits gone from /limits and os-quota-sets; the
       proxy APIs (os-networks, ...) are not offered at any version
2.37 - servers: networks is required on create ("auto", "none" or a list)
2.38 - servers: an unknown status filter is a 400
2.39 - limits: no maxImageMeta
2.40 - missing: limit/marker paging of os-simple-tenant-usage
2.41 - aggregates: uuid
2.42 - tag on networks and block devices at create again (accepted)
2.43 - n/a (os-hosts is not offered)
2.44 - n/a (addFixedIp, removeFixedIp, addFloatingIp, ... are not offered)
2.45 - servers: createImage answers 202 {"image_id"} and no Location header
2.46 - X-OpenStack-Request-ID answered (at every version here)
2.47 - servers: the flavor is embedded (original_name, vcpus, ram, ...)
2.48 - n/a (server diagnostics are not offered)
2.49 - tag on interface and volume attach (accepted)
2.50 - n/a (os-quota-class-sets is not offered)
2.51 - instance action events for the server's owner too (admins only
       before); volume-extended events n/a
2.52 - servers: tags at create
2.53 - os-services and os-hypervisors: ids are UUIDs; PUT /os-services/{id}
       with status, disabled_reason and forced_down
2.54 - rebuild: key_name (and key_name in its answer)
2.55 - flavors: description, PUT /flavors/{id}
2.56 - servers: migrate may name the destination host
2.57 - no personality (create, rebuild); rebuild: user_data (and in its
       answer); limits and quota sets: no injected file quotas
2.58 - os-instance-actions: limit, marker, changes-since; updated_at
2.59 - os-migrations: uuid; limit and marker paging
2.60 - missing: a multiattach volume on a second server (attach needs the
       volume available)
2.61 - flavors: extra_specs in flavor views
"""

from api import microversion

MIN = '2.1'
MAX = '2.61'

negotiator = microversion.Negotiator('compute', MIN, MAX,
                                     legacy_header='X-OpenStack-Nova-API-Version')
