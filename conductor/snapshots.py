"""The snapshot of a server booted from a volume, finished off the API's
request (api.compute.snapshots casts it here).

The API has made a volume snapshot of each of the server's volumes (the
volume service is creating them), and a queued image of no data whose
block_device_mapping property names them; the server is in task_state
image_snapshot. Here the snapshots are waited for (at most [volume]
rpc_timeout seconds): all available, the image gets its zero bytes
through its signed upload URL and goes active, so an active image is
always bootable; any other outcome deletes the image and the snapshots
again. The server's task_state is cleared either way.
"""

import contextlib
import http.client
import time
import urllib.parse

from oslo_log import log as logging

from blockstore import rpcapi as volume_rpcapi
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common import instance_states as st
from common.conf import CONF
from common.db import instances
from imagestore import rpcapi as image_rpcapi

LOG = logging.getLogger(__name__)

EVENT = 'conductor_snapshot_volume_backed'
SNAPSHOT_POLL = 0.2


class SnapshotFailed(Exception):
    pass


def drop_snapshot(ctx, snap):
    """Delete a volume snapshot made for an image that will not be."""
    try:
        snap = volume_snapshots.begin_delete_snapshot(snap['id'], snap['project_id'], force=True)
        volume_rpcapi.VolumeAPI().delete_snapshot(ctx, snap, volumes.get(snap['volume_id']))
    except Exception:  # noqa: BLE001 - the caller's error is the news
        LOG.exception('Could not delete snapshot %s again', snap['id'])


def wait_available(snapshot_ids, timeout):
    """Each snapshot, once it is no longer being created; raises
    SnapshotFailed when one is not available (or not by ``timeout``)."""
    deadline = time.monotonic() + timeout
    for sid in snapshot_ids:
        snap = volume_snapshots.get_snapshot(sid)
        while snap['status'] == volumes.CREATING and time.monotonic() < deadline:
            time.sleep(SNAPSHOT_POLL)
            snap = volume_snapshots.get_snapshot(sid)
        if snap['status'] != volumes.AVAILABLE:
            raise SnapshotFailed('snapshot %s of volume %s is %s' % (
                snap['id'], snap['volume_id'], snap['status']))


def put_no_data(upload_url, timeout):
    """The image's zero bytes, through its signed upload URL: it goes
    active (raw, size 0). Straight to the image service (no proxy)."""
    parts = urllib.parse.urlsplit(upload_url)
    cls = http.client.HTTPSConnection if parts.scheme == 'https' else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request('PUT', parts.path + ('?' + parts.query if parts.query else ''), body=b'',
                     headers={'Content-Type': 'application/octet-stream',
                              'Content-Length': '0', 'X-OpenStack-Image-Size': '0'})
        resp = conn.getresponse()
        body = resp.read(2048)
    finally:
        conn.close()
    if resp.status not in (200, 201, 204):
        raise SnapshotFailed('the image service answered %d: %s' % (
            resp.status, body.decode('utf-8', 'replace').strip()[:300]))


def finish_volume_backed(context, instance_uuid, image_id, upload_url, snapshot_ids):
    """Wait for the snapshots, then activate the image; or give both up."""
    instances.event_start(context.request_id, instance_uuid, EVENT)
    try:
        wait_available(snapshot_ids, CONF.volume.rpc_timeout)
        put_no_data(upload_url, CONF.volume.rpc_timeout)
    except Exception as e:  # noqa: BLE001 - whatever failed, the image must go
        LOG.warning('Snapshot image %s of volume-backed server %s failed: %s', image_id,
                    instance_uuid, e)
        for sid in snapshot_ids:
            with contextlib.suppress(Exception):
                drop_snapshot(context, volume_snapshots.get_snapshot(sid))
        try:
            image_rpcapi.ImageAPI().discard_snapshot_images(context, instance_uuid, image_id)
        except Exception:  # noqa: BLE001
            LOG.exception('Could not discard snapshot image %s of %s', image_id, instance_uuid)
        instances.event_finish(context.request_id, instance_uuid, EVENT, result='Error',
                               details=str(e)[:4000])
        ok = False
    else:
        LOG.info('Image %s of volume-backed server %s is active', image_id, instance_uuid)
        instances.event_finish(context.request_id, instance_uuid, EVENT)
        ok = True
    with contextlib.suppress(instances.InstanceNotFound, instances.InstanceInvalidState):
        instances.update(instance_uuid, {'task_state': None}, task_states=[st.IMAGE_SNAPSHOT])
    return ok
