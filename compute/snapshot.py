"""Server snapshots on the compute agent: copy the root disk, upload it,
settle the records.

The API has already made the image (queued, with a signed upload URL) and
set the task_state to image_snapshot. Here, step by step:

    image_snapshot        the driver writes the root disk as a standalone
                          qcow2 into instances_path/snapshots/<image id>
                          (the instance's lock held: no power action meanwhile)
    image_pending_upload  the file is checked: qcow2, no backing file
    image_uploading       streamed PUT to the signed URL; the image service
                          hashes it, inspects it and makes the image active
    None                  the server rests as it did before

Each step is a compare-and-set on the task_state: a server deleted
meanwhile stops the snapshot. A failure anywhere discards the image (the
image service deletes it, as its data never arrived), puts the task_state
back to None and finishes the event with Error; the temporary file always
goes. An agent that restarts finds image_* task states in
compute/reconcile.py and settles them the same way (settle).
"""

import http.client
import os
import re
import time
import urllib.parse

import oslo_messaging as messaging
from oslo_log import log as logging

from common import instance_states as st
from common.conf import CONF
from common.host import disk
from compute.virt import exception
from compute.virt import power_state

LOG = logging.getLogger(__name__)

EVENT = 'compute_snapshot_instance'
SUBDIR = 'snapshots'
CHUNK = 1024 * 1024
_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9-]{0,63}$')
OCTET = 'application/octet-stream'
# Seconds the upload's socket may stall: the image service inspects the
# whole file (qemu-img, up to its [image] inspect_timeout) before it answers.
UPLOAD_TIMEOUT = 300


class Cancelled(Exception):
    """The server left the snapshot's task state (deleted, most likely)."""


def work_dir():
    return os.path.join(CONF.compute.instances_path, SUBDIR)


def clean_work_dir():
    """Remove the files of snapshots a dead agent cut short (at start-up)."""
    path = work_dir()
    if not os.path.isdir(path):
        return
    for name in os.listdir(path):
        try:
            os.unlink(os.path.join(path, name))
            LOG.info('Removed the leftover snapshot file %s', name)
        except OSError as e:
            LOG.warning('Could not remove the leftover snapshot file %s: %s', name, e)


def _file_for(image_id):
    if not isinstance(image_id, str) or not _SAFE_ID.match(image_id):
        raise exception.SnapshotFailed(instance_id='?', reason='bad image id %r' % image_id)
    os.makedirs(work_dir(), exist_ok=True)
    return os.path.join(work_dir(), '%s.qcow2' % image_id)


def resting_values(state, vm_state):
    """task_state None, and the vm_state the guest's power state implies."""
    values = {'task_state': None, 'power_state': state}
    if state == power_state.RUNNING:
        values['vm_state'] = st.ACTIVE
    elif state in (power_state.SHUTDOWN, power_state.CRASHED):
        values['vm_state'] = st.STOPPED
    elif vm_state in (st.ACTIVE, st.STOPPED):
        values['vm_state'] = vm_state
    return values


class Snapshots:
    """The snapshot flow of one agent; ``agent`` is its ComputeManager
    (driver, image API, instance locks, state and event reports)."""

    def __init__(self, agent):
        self.agent = agent

    def _step(self, ctx, inst, new_task, from_task):
        if self.agent.reports.update(ctx, inst, {'task_state': new_task},
                                     expected=[from_task]) is None:
            raise Cancelled('the server left %s (deleted?)' % from_task)

    def take(self, ctx, inst, image_id, upload_url):
        uuid = inst['uuid']
        agent = self.agent
        t0 = time.monotonic()
        agent.reports.event(ctx, inst, EVENT, 'start')
        path = None
        try:
            path = _file_for(image_id)
            with agent.guests.lock(uuid):
                if not agent.driver.capabilities.get('supports_snapshot'):
                    raise exception.NotSupported(what='snapshot')
                agent.driver.snapshot(ctx, inst, path)
            t_copy = time.monotonic() - t0
            self._step(ctx, inst, st.IMAGE_PENDING_UPLOAD, st.IMAGE_SNAPSHOT)
            size = check_file(uuid, path)
            self._step(ctx, inst, st.IMAGE_UPLOADING, st.IMAGE_PENDING_UPLOAD)
            t1 = time.monotonic()
            upload(image_id, path, upload_url,
                   max(UPLOAD_TIMEOUT, CONF.compute.image_download_timeout))
            t_upload = time.monotonic() - t1
        except Exception as e:  # noqa: BLE001 - every failure settles the same way
            if isinstance(e, Cancelled):
                LOG.info('Snapshot %s of %s cancelled: %s', image_id, uuid, e)
            else:
                LOG.exception('Snapshot %s of %s failed', image_id, uuid)
            self._discard(ctx, uuid, image_id)
            with agent.guests.lock(uuid):
                state = agent.guests.power_state(inst)
                agent.reports.update(ctx, inst, resting_values(state, inst['vm_state']),
                                     expected=list(st.IMAGE_TASK_STATES))
            agent.reports.event(ctx, inst, EVENT, 'finish', result='Error',
                                details=(str(e) or type(e).__name__)[:500])
            return False
        finally:
            if path is not None:
                _unlink(path)
        if agent.reports.update(ctx, inst, {'task_state': None},
                                expected=[st.IMAGE_UPLOADING]) is None:
            # Deleted while the bytes went up: the image is whole, it stays.
            LOG.info('Instance %s went away during its snapshot; image %s is kept',
                     uuid, image_id)
        agent.reports.event(ctx, inst, EVENT, 'finish')
        LOG.info('Snapshot %s of %s uploaded: %d bytes (copy %.2fs, upload %.2fs)',
                 image_id, uuid, size, t_copy, t_upload)
        return True

    def _discard(self, ctx, uuid, image_id=None):
        try:
            self.agent.images.discard_snapshot_images(ctx, uuid, image_id)
        except messaging.MessagingTimeout:
            LOG.warning('The image service did not answer; snapshot image %s of %s is '
                        'left queued', image_id or '(any)', uuid)
        except Exception:  # noqa: BLE001 - the server's state matters more
            LOG.exception('Could not discard snapshot image %s of %s', image_id or '(any)',
                          uuid)

    def settle(self, ctx, inst, exists):
        """After a restart: a snapshot of ``inst`` was cut short. Stop what
        the driver left, discard the unfinished image(s) and, when the guest
        is still here, let the server rest again."""
        uuid = inst['uuid']
        LOG.warning('Snapshot of %s was interrupted (%s); settling it', uuid,
                    inst['task_state'])
        if exists:
            try:
                self.agent.driver.abort_snapshot(inst)
            except Exception:  # noqa: BLE001
                LOG.exception('Could not stop the interrupted snapshot of %s', uuid)
        self._discard(ctx, uuid)
        if exists:
            state = self.agent.guests.power_state(inst)
            self.agent.reports.update(ctx, inst, resting_values(state, inst['vm_state']),
                                      expected=list(st.IMAGE_TASK_STATES))


def check_file(uuid, path):
    """Size of the snapshot file, once it is known to be a standalone qcow2."""
    header = disk.read_qcow2_header(path)
    if header is None:
        raise exception.SnapshotFailed(instance_id=uuid, reason='the copy is not a qcow2 file')
    if header['backing_file']:
        raise exception.SnapshotFailed(instance_id=uuid,
                                       reason='the copy still has a backing file')
    return os.path.getsize(path)


def upload(image_id, path, url, timeout):
    """PUT the file at ``path`` to the signed ``url`` in 1 MiB blocks."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise exception.ImageUploadFailed(image_id=image_id, reason='no http(s) URL')
    cls = http.client.HTTPSConnection if parts.scheme == 'https' else http.client.HTTPConnection
    size = os.path.getsize(path)
    conn = cls(parts.hostname, parts.port, timeout=timeout, blocksize=CHUNK)
    try:
        with open(path, 'rb') as f:
            conn.request('PUT', parts.path + ('?' + parts.query if parts.query else ''),
                         body=f, headers={'Content-Type': OCTET,
                                          'Content-Length': str(size),
                                          'X-OpenStack-Image-Size': str(size)})
            resp = conn.getresponse()
            body = resp.read(2048)
    except (OSError, http.client.HTTPException) as e:
        raise exception.ImageUploadFailed(image_id=image_id, reason=str(e)) from e
    finally:
        conn.close()
    if resp.status not in (200, 201, 204):
        raise exception.ImageUploadFailed(
            image_id=image_id, reason='the image service answered %d: %s'
            % (resp.status, body.decode('utf-8', 'replace').strip()[:300]))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
