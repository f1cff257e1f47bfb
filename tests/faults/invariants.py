"""The invariants every faults scenario ends with (issue 16).

    figures = invariants.check(cloud, converge=60)

``check`` waits up to ``converge`` seconds for the cloud (a
tests/functional/cloud.py LocalCloud, extra hosts included) to settle, then
fails with one line per offender unless:

* nothing is in a transitional state: no server BUILD or with a task_state
  (MIGRATING, RESIZE, REBOOT, HARD_REBOOT, REBUILD, ...), no volume,
  snapshot or attachment half-way (creating, attaching, reserved, ...), no
  image saving/importing/uploading, no migration short of a final status
  (``transitional``);
* the scheduler's claims are what exists (``claim_problems``): on every
  compute node the *_used columns are the sum of its allocations, every
  allocation is a server that exists (or a move under way) and holds its
  flavor, every server at rest on a host holds exactly its flavor there;
* quota usage is what exists (``quota_problems``: quota_usages against the
  servers; ``limits_problems``: `openstack limits show --absolute` of each
  project the cloud has a login for, against its servers and volumes);
* nothing is orphaned on any host (tests/faults/invariants_host.py).

The records are read from the cloud's own database (exact: the API's views
are derived from the same rows). Everything here is scoped to this cloud:
its database, its workdir, its hosts' names and namespaces. The pure parts
(taking plain dicts) are unit-tested in tests/unit/test_fault_invariants.py.
"""

import time

# Servers: a vm_state that is not a resting one, or any task_state.
SERVER_RESTING = {'active', 'stopped', 'paused', 'suspended', 'resized', 'error',
                  'shelved', 'shelved_offloaded', 'soft-delete', 'rescued'}
# Volumes (Cinder's api-ref statuses, and ours): the ones that end.
VOLUME_BUSY = {'creating', 'attaching', 'detaching', 'deleting', 'extending',
               'downloading', 'uploading', 'reserved', 'maintenance', 'retyping',
               'backing-up', 'restoring-backup', 'awaiting-transfer', 'importing',
               'managing', 'reverting'}
SNAPSHOT_BUSY = {'creating', 'deleting', 'restoring', 'unmanaging', 'backing-up'}
ATTACHMENT_BUSY = {'reserved', 'attaching', 'detaching'}
# Images (Glance's): queued is a resting state (no data yet).
IMAGE_BUSY = {'saving', 'importing', 'uploading'}
# Migrations (Nova's): every other status is a move under way. 'finished'
# rests only while its server waits for confirm (VERIFY_RESIZE); 'done' is
# an evacuation waiting for its source host to clean up.
MIGRATION_FINAL = {'confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled',
                   'done'}
CLAIMED = (('vcpus', 'vcpus_used'), ('memory_mb', 'memory_mb_used'),
           ('disk_gb', 'local_gb_used'))


# -- the records ------------------------------------------------------------------
_QUERIES = {
    'instances': 'SELECT uuid, display_name, project_id, vm_state, task_state, host, node, '
                 'vcpus, memory_mb, root_gb, flavor, request_spec, fault '
                 'FROM instances WHERE NOT deleted',
    'volumes': 'SELECT id, name, project_id, size, status, host FROM volumes WHERE NOT deleted',
    'snapshots': 'SELECT id, volume_id, size, status FROM volume_snapshots WHERE NOT deleted',
    'attachments': 'SELECT id, volume_id, instance_uuid, status, host_name '
                   'FROM volume_attachments',
    'images': 'SELECT id, name, status FROM images WHERE NOT deleted',
    'migrations': 'SELECT uuid, instance_uuid, migration_type, status, source_compute, '
                  'dest_compute FROM migrations',
    'nodes': 'SELECT id, host, vcpus_used, memory_mb_used, local_gb_used FROM compute_nodes',
    'allocations': 'SELECT consumer_uuid, node_id, vcpus, memory_mb, disk_gb FROM allocations',
    'usages': 'SELECT project_id, resource, in_use FROM quota_usages',
    'ports': 'SELECT id, network_id, device_id, device_owner, host, mac_address FROM ports',
    'networks': 'SELECT id, name FROM networks',
    'routers': 'SELECT id, name FROM routers',
    'projects': 'SELECT id, name FROM projects',
}


def read_records(url):
    """{table key: [row dict]} of everything the invariants look at."""
    import json

    import sqlalchemy as sa
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {k: [dict(r._mapping) for r in conn.exec_driver_sql(q)]
                   for k, q in _QUERIES.items()}
    finally:
        engine.dispose()
    for inst in out['instances']:  # JSON columns come back as text on some drivers
        for key in ('flavor', 'request_spec', 'fault'):
            if isinstance(inst[key], str):
                inst[key] = json.loads(inst[key])
    return out


def flavor_of(inst):
    """What a server claims: {'vcpus', 'memory_mb', 'disk_gb'} (its flavor's
    vCPUs and RAM; the disk its request asked for: 0 when booted from a
    volume, the image's size for a flavor without a root disk)."""
    spec = inst.get('request_spec') or {}
    disk = spec.get('disk_gb', inst['root_gb'])
    return {'vcpus': inst['vcpus'], 'memory_mb': inst['memory_mb'], 'disk_gb': disk}


# -- pure checks (each returns one line per offender) ----------------------------------
def transitional(rec):
    out = []
    for i in rec['instances']:
        if i['vm_state'] not in SERVER_RESTING or i['task_state']:
            out.append('server %s (%s) in transition: vm_state=%s task_state=%s host=%s'
                       % (i['uuid'], i['display_name'], i['vm_state'], i['task_state'],
                          i['host']))
    for v in rec['volumes']:
        if v['status'] in VOLUME_BUSY:
            out.append('volume %s (%s) is %s' % (v['id'], v['name'], v['status']))
    for s in rec['snapshots']:
        if s['status'] in SNAPSHOT_BUSY:
            out.append('snapshot %s of volume %s is %s' % (s['id'], s['volume_id'],
                                                          s['status']))
    for a in rec['attachments']:
        if a['status'] in ATTACHMENT_BUSY:
            out.append('attachment %s of volume %s to server %s is %s' % (
                a['id'], a['volume_id'], a['instance_uuid'], a['status']))
    for im in rec['images']:
        if im['status'] in IMAGE_BUSY:
            out.append('image %s (%s) is %s' % (im['id'], im['name'], im['status']))
    servers = {i['uuid']: i for i in rec['instances']}
    for m in rec['migrations']:
        if m['status'] in MIGRATION_FINAL:
            continue
        inst = servers.get(m['instance_uuid'])
        if m['status'] == 'finished' and inst and inst['vm_state'] == 'resized':
            continue
        out.append('migration %s (%s) of server %s is %s (%s -> %s)' % (
            m['uuid'], m['migration_type'], m['instance_uuid'], m['status'],
            m['source_compute'], m['dest_compute']))
    return out


def _open_moves(rec):
    """{migration uuid: migration} of the moves that may hold a claim."""
    servers = {i['uuid']: i for i in rec['instances']}
    return {m['uuid']: m for m in rec['migrations']
            if m['status'] not in MIGRATION_FINAL
            or (m['status'] == 'finished' and m['instance_uuid'] in servers)}


def claim_problems(rec):
    out = []
    nodes = {n['id']: n for n in rec['nodes']}
    servers = {i['uuid']: i for i in rec['instances']}
    moves = _open_moves(rec)
    held = {}
    for a in rec['allocations']:
        node = nodes.get(a['node_id'])
        where = node['host'] if node else 'node %s' % a['node_id']
        if node is None:
            out.append('allocation of %s on a node that does not exist (%s)'
                       % (a['consumer_uuid'], a['node_id']))
            continue
        for key, _used in CLAIMED:
            held.setdefault(a['node_id'], {}).setdefault(key, 0)
            held[a['node_id']][key] += a[key]
        inst = servers.get(a['consumer_uuid'])
        if inst is None and a['consumer_uuid'] not in moves:
            out.append('leaked claim on %s: consumer %s is no server and no move under way '
                       '(%s vCPU, %s MB, %s GB)' % (where, a['consumer_uuid'], a['vcpus'],
                                                    a['memory_mb'], a['disk_gb']))
        elif inst is not None and not moves_of(inst, moves):
            want = flavor_of(inst)
            got = {k: a[k] for k, _u in CLAIMED}
            # (a resize's new root disk, whatever the first request asked)
            disks = {want['disk_gb'], inst['root_gb']}
            if (got['vcpus'], got['memory_mb']) != (want['vcpus'], want['memory_mb']) \
                    or got['disk_gb'] not in disks:
                out.append('server %s holds %s on %s, its flavor is %s'
                           % (inst['uuid'], got, where, want))
            if inst['host'] != node['host']:
                out.append('server %s on %s holds a claim on %s'
                           % (inst['uuid'], inst['host'], where))
    for nid, node in nodes.items():
        for key, used in CLAIMED:
            if node[used] != held.get(nid, {}).get(key, 0):
                out.append('node %s: %s=%s but its allocations sum to %s'
                           % (node['host'], used, node[used], held.get(nid, {}).get(key, 0)))
    claimed = {a['consumer_uuid'] for a in rec['allocations']}
    for inst in rec['instances']:
        if inst['host'] and inst['vm_state'] != 'error' and inst['uuid'] not in claimed:
            out.append('server %s (%s) on %s holds no claim'
                       % (inst['uuid'], inst['vm_state'], inst['host']))
    return out


def port_problems(rec):
    """A server's port whose server is gone, or bound to another host
    than the server's (while the server is not moving)."""
    out = []
    servers = {i['uuid']: i for i in rec['instances']}
    moving = {m['instance_uuid'] for m in _open_moves(rec).values()}
    for p in rec['ports']:
        if not (p['device_owner'] or '').startswith('compute:'):
            continue
        inst = servers.get(p['device_id'])
        if inst is None:
            out.append('port %s of server %s, which does not exist' % (p['id'], p['device_id']))
        elif inst['host'] and p['host'] and p['host'] != inst['host'] \
                and inst['uuid'] not in moving:
            out.append('port %s of server %s is bound to %s, the server is on %s'
                       % (p['id'], inst['uuid'], p['host'], inst['host']))
    return out


def moves_of(inst, moves):
    return [m for m in moves.values() if m['instance_uuid'] == inst['uuid']]


def expected_usage(rec):
    """{project: {'instances', 'cores', 'ram'}} of the servers that exist."""
    out = {}
    for i in rec['instances']:
        use = out.setdefault(i['project_id'], {'instances': 0, 'cores': 0, 'ram': 0})
        use['instances'] += 1
        use['cores'] += i['vcpus']
        use['ram'] += i['memory_mb']
    return out


def quota_problems(rec):
    out = []
    want = expected_usage(rec)
    have = {}
    for u in rec['usages']:
        have.setdefault(u['project_id'], {})[u['resource']] = u['in_use']
    moving = {m['instance_uuid'] for m in _open_moves(rec).values()}
    for project in sorted(set(want) | set(have)):
        if any(i['project_id'] == project and i['uuid'] in moving for i in rec['instances']):
            continue  # a resize holds its delta until it is confirmed
        for res in ('instances', 'cores', 'ram'):
            w = want.get(project, {}).get(res, 0)
            h = have.get(project, {}).get(res, 0)
            if w != h:
                out.append('project %s: quota usage %s=%s, what exists says %s'
                           % (project, res, h, w))
    return out


LIMITS_USED = (('totalInstancesUsed', 'instances'), ('totalCoresUsed', 'cores'),
               ('totalRAMUsed', 'ram'), ('totalVolumesUsed', 'volumes'),
               ('totalGigabytesUsed', 'gigabytes'))


def limits_problems(project, shown, rec):
    """``shown``: `openstack limits show --absolute -f json` of ``project``."""
    want = dict(expected_usage(rec).get(project, {'instances': 0, 'cores': 0, 'ram': 0}))
    vols = [v for v in rec['volumes'] if v['project_id'] == project]
    snaps = [s for s in rec['snapshots'] if any(v['id'] == s['volume_id'] for v in vols)]
    want['volumes'] = len(vols)
    want['gigabytes'] = sum(v['size'] for v in vols) + sum(s['size'] for s in snaps)
    values = {row['Name']: row['Value'] for row in shown}
    out = []
    for name, res in LIMITS_USED:
        if name in values and int(values[name]) != want[res]:
            out.append('project %s: limits show %s=%s, what exists says %s'
                       % (project, name, values[name], want[res]))
    return out


# -- the check ----------------------------------------------------------------------
def _limits(cloud, rec):
    projects = {p['name']: p['id'] for p in rec['projects']}
    out = []
    for who in ('admin', 'demo'):
        if who in projects:
            shown = cloud.openstack('limits', 'show', '--absolute', cloud=who, json_out=True)
            out += limits_problems(projects[who], shown, rec)
    return out


def problems(cloud):
    """(every offender now, counts of what was checked)."""
    from tests.faults import invariants_host
    rec = read_records(cloud.db.url)
    found = transitional(rec) + port_problems(rec) + claim_problems(rec) + quota_problems(rec)
    host_found, host_counts = invariants_host.orphans(cloud, rec)
    counts = {k: len(rec[k]) for k in ('instances', 'volumes', 'images', 'migrations',
                                       'allocations', 'ports', 'nodes')}
    counts.update(host_counts)
    return found + host_found, counts, rec


def check(cloud, converge=60):
    """Wait up to ``converge`` s for every invariant to hold; AssertionError
    naming each offender if they do not. Returns the figures:
    {'converged_s', 'checked': {what: count}}."""
    started = time.monotonic()
    while True:
        found, counts, rec = problems(cloud)
        if not found:
            found = _limits(cloud, rec)  # the CLI is slow: once the rest holds
        if not found:
            return {'converged_s': round(time.monotonic() - started, 1), 'checked': counts}
        if time.monotonic() - started > converge:
            raise AssertionError('not converged within %d s (logs in %s):\n  %s'
                                 % (converge, cloud.workdir, '\n  '.join(found)))
        time.sleep(1)
