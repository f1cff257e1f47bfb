"""Compute agent RPC endpoints. Holds no database credentials: what it
knows of instances comes in RPC arguments, and what it learns it reports
to the scheduler, which keeps the books.

Thin: each endpoint takes the instance's lock and hands off to the driver.
"""

import threading
import time

import oslo_messaging as messaging
from oslo_log import log as logging

from common import context as ctx_mod
from common import instance_states as st
from common import periodic
from common import rpc
from common.conf import CONF
from compute import blockdev
from compute import coldmig
from compute import evacuate
from compute import imagecache
from compute import live_migration
from compute import rpcapi as compute_rpcapi
from compute import snapshot
from compute.network import plane as netplane
from compute.virt import driver as virt_driver
from compute.virt import exception as virt_exception
from compute.virt import power_state
from conductor import rpcapi as conductor_rpcapi
from imagestore import rpcapi as image_rpcapi
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)
# Task states an agent that restarted finds its instances in, and what
# they rest in once the agent has looked at the guest.
_INTERRUPTED = {st.POWERING_OFF, st.POWERING_ON, st.REBOOTING, st.REBOOTING_HARD,
                st.PAUSING, st.UNPAUSING, st.SUSPENDING, st.RESUMING}
# A rebuild cut short may have left either root disk in place: ERROR, from
# which the owner can rebuild again.
_INTERRUPTED_REBUILD = {st.REBUILDING, st.REBUILD_SPAWNING}
# Where a guest rests, by what the hypervisor says of it (NOSTATE: unknown).
_RESTING = {power_state.RUNNING: st.ACTIVE, power_state.PAUSED: st.PAUSED,
            power_state.SUSPENDED: st.SUSPENDED, power_state.SHUTDOWN: st.STOPPED,
            power_state.CRASHED: st.STOPPED}


def resting_vm_state(state, default=st.STOPPED):
    """The vm_state a guest in power ``state`` rests in."""
    return _RESTING.get(state, default)


class ComputeManager:
    target = messaging.Target(version='1.10')

    def __init__(self, driver=None):
        self.host = CONF.host
        self.driver = driver
        self.scheduler = scheduler_rpcapi.SchedulerAPI()
        self.conductor = conductor_rpcapi.ConductorAPI()
        self.images = image_rpcapi.ImageAPI()
        self.cache = imagecache.ImageCache()
        self.block = blockdev.BlockDevices(lambda: self.driver)
        self._locks = {}
        self._locks_guard = threading.Lock()
        self._reconciled = False
        self._reported = False
        self.network = netplane.HostNetwork(CONF.network.state_dir, self.host)
        self._net_lock = threading.Lock()
        self._net_synced_at = float('-inf')
        self.snapshots = snapshot.Snapshots(self)
        self.compute_api = compute_rpcapi.ComputeAPI()
        self.moves = coldmig.ColdMoves(self)
        self.evacuations = evacuate.Evacuations(self)
        self.live_migrations = live_migration.LiveMigrations(self)

    # -- helpers ------------------------------------------------------------
    def _lock(self, uuid):
        with self._locks_guard:
            return self._locks.setdefault(uuid, threading.Lock())

    def _update(self, ctx, instance, values, expected=None, retries=5):
        """Report a state change; retried while the scheduler is away."""
        try:
            return rpc.call_until_answered(
                lambda: self.conductor.instance_update(ctx, instance['uuid'], values,
                                                       expected_task_states=expected),
                'an update of %s' % instance['uuid'], tries=retries)
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting %s for %s; the power sync will', values,
                      instance['uuid'])
            return None

    def _event(self, ctx, instance, event, phase, result=None, details=None):
        try:
            self.conductor.instance_event(ctx, instance['uuid'], event, phase, result=result,
                                          details=details, host=self.host)
        except Exception:  # noqa: BLE001 - the log of events is not worth a failed action
            LOG.warning('Could not record event %s of %s', event, instance['uuid'],
                        exc_info=True)

    # -- life cycle ---------------------------------------------------------
    def init_host(self):
        if self.driver is None:
            self.driver = virt_driver.load_driver(CONF.compute.compute_driver)
        self.driver.init_host(self.host)
        snapshot.clean_work_dir()
        # Reporting resources and reconciling need the scheduler, which may
        # start after us: both run as periodic tasks (first run at once,
        # in the background), so heartbeats are never held up.
        self._reconciled = False

    def cleanup_host(self):
        if self.driver is not None:
            self.driver.cleanup_host(self.host)

    def reconcile(self):
        """Make libvirt and the books agree after a (re)start."""
        ctx = ctx_mod.get_admin_context()
        self.evacuations.clean_leftovers(ctx)
        known = {i['uuid']: i for i in self.conductor.get_host_instances(
            ctx, self.host, timeout=CONF.report_interval * 2)}
        running = set(self.driver.list_instance_uuids())
        for uuid in running - set(known):
            LOG.warning('Orphan guest %s is not in the books: removing it', uuid)
            try:
                self.driver.destroy(ctx, {'uuid': uuid}, cleanup=True)
            except Exception:  # noqa: BLE001
                LOG.exception('Could not remove orphan guest %s', uuid)
        for uuid, inst in known.items():
            self._init_instance(ctx, inst, uuid in running)

    def _init_instance(self, ctx, inst, exists):
        task = inst['task_state']
        if self.moves.moved_away(inst):  # its old guest waits here for the confirm
            self.moves.init_moved_away(ctx, inst, exists)
            return
        if task == st.DELETING:
            self._terminate(ctx, inst)
            return
        if task in st.RESIZE_TASKS:
            self._init_resize(ctx, inst, exists)
            return
        if evacuate.is_evacuation(inst):
            self.evacuations.settle(ctx, inst, exists)
            return
        if task == st.MIGRATING:
            self.live_migrations.settle(ctx, inst, exists)
            return
        if inst['vm_state'] == st.BUILDING:
            if exists:
                self.driver.destroy(ctx, inst, cleanup=True)
            self._update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                                     'fault': {'code': 500, 'message':
                                               'The compute agent restarted during the build.'}})
            return
        if task in st.IMAGE_TASK_STATES:
            self.snapshots.settle(ctx, inst, exists)
        if not exists:
            if inst['vm_state'] in (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED,
                                    st.RESIZED):
                LOG.error('Guest of %s is gone from the hypervisor', inst['uuid'])
                self._update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                                         'power_state': power_state.NOSTATE,
                                         'fault': {'code': 500, 'message':
                                                   'The guest was lost on host %s.'
                                                   % self.host}})
            elif task in _INTERRUPTED | _INTERRUPTED_REBUILD:  # an ERROR server's action
                self._update(ctx, inst, {'task_state': None,
                                         'power_state': power_state.NOSTATE})
            return
        if task in _INTERRUPTED:
            state = self.driver.get_info(inst)['state']
            self._update(ctx, inst, {'vm_state': resting_vm_state(state), 'task_state': None,
                                     'power_state': state})
        elif task in _INTERRUPTED_REBUILD:
            self._update(ctx, inst, {'vm_state': st.ERROR, 'task_state': None,
                                     'power_state': self._safe_state(inst),
                                     'fault': {'code': 500, 'message': 'The compute agent '
                                               'restarted during the rebuild.'}})
        self.block.settle(ctx, inst)

    # -- periodic tasks -----------------------------------------------------
    @periodic.periodic(lambda: CONF.report_interval * 2, run_immediately=True)
    def update_available_resource(self):
        """Report totals (a call: a cast before the scheduler's queue exists
        would vanish); a failed report is retried at the next run."""
        res = dict(self.driver.get_available_resource())
        res.update(reserved_vcpus=CONF.compute.reserved_host_cpus,
                   reserved_memory_mb=CONF.compute.reserved_host_memory_mb,
                   reserved_disk_gb=-(-CONF.compute.reserved_host_disk_mb // 1024),
                   host_ip=CONF.my_ip, external_gateway=CONF.network.external_gateway)
        # Until the first report lands (the scheduler may still be starting),
        # retry every few seconds: no server can be placed here before it.
        tries = 1 if self._reported else 10
        for attempt in range(tries):
            try:
                self.scheduler.update_compute_node(ctx_mod.get_admin_context(), self.host,
                                                   res, timeout=3)
                self._reported = True
                break
            except messaging.MessagingTimeout:
                LOG.warning('Scheduler did not take our resource report (try %d)',
                            attempt + 1)
        if not self._reconciled:
            try:
                self.reconcile()
                self._reconciled = True
            except messaging.MessagingTimeout:
                LOG.warning('Scheduler did not answer; reconciling later')

    @periodic.periodic(10)
    def sync_power_states(self):
        """Tell the books what the hypervisor says of each resting guest."""
        if not self._reconciled:
            return
        ctx = ctx_mod.get_admin_context()
        for inst in self.conductor.get_host_instances(ctx, self.host):
            if inst['task_state'] is not None or inst['vm_state'] not in (
                    st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED):
                continue
            with self._lock(inst['uuid']):
                try:
                    state = self.driver.get_info(inst)['state']
                except Exception:  # noqa: BLE001 - the guest vanished: next check reports
                    state = power_state.NOSTATE
                values = {}
                if state != inst['power_state']:
                    values['power_state'] = state
                vm_state = resting_vm_state(state, default=inst['vm_state'])
                if vm_state != inst['vm_state']:
                    values['vm_state'] = vm_state
                if values:
                    LOG.info('Power sync of %s: %s', inst['uuid'], values)
                    self._update(ctx, inst, values, expected=[None])

    @periodic.periodic(lambda: min(5, CONF.network.sync_interval), run_immediately=True)
    def sync_network(self):
        """Make the host's bridges, DHCP, firewall and NAT match the books:
        every [network] sync_interval seconds, and within seconds after a
        sync that failed (the scheduler away, a command that failed)."""
        if time.monotonic() - self._net_synced_at < CONF.network.sync_interval:
            return
        self._sync_network(ctx_mod.get_admin_context())

    def _sync_network(self, ctx):
        """Fetch this host's network state and apply it; False if it failed
        (the periodic sync tries again soon)."""
        with self._net_lock:
            try:
                state = self.conductor.get_host_network_state(
                    ctx, self.host, timeout=CONF.rpc_call_timeout)
                self.network.apply(state)
                self._net_synced_at = time.monotonic()
                return True
            except messaging.MessagingTimeout:
                LOG.warning('Scheduler did not answer for the network state; syncing later')
            except Exception:  # noqa: BLE001 - a bad sync must not stop the agent
                LOG.exception('Network sync failed; trying again soon')
            self._net_synced_at = float('-inf')
            return False

    @periodic.periodic(600)
    def clean_image_cache(self):
        active = {i['image_ref'] for i in self.conductor.get_host_instances(
            ctx_mod.get_admin_context(), self.host) if i.get('image_ref')}
        self.cache.cleanup_unused(active)

    # -- RPC endpoints ------------------------------------------------------
    def ping(self, context):
        return {'service': 'compute', 'host': self.host}

    def build_and_run_instance(self, context, instance):
        with self._lock(instance['uuid']):
            self._build(context, instance)

    def _build(self, ctx, inst):
        uuid = inst['uuid']
        if self._update(ctx, inst, {'task_state': st.SPAWNING},
                        expected=[st.SCHEDULING]) is None:
            LOG.info('Build of %s cancelled: it changed before we started', uuid)
            return
        self._event(ctx, inst, 'compute_build_and_run_instance', 'start')
        block_devices = inst.get('block_devices') or []
        try:
            network_info = inst.get('network_info') or []
            if network_info and not self._sync_network(ctx):
                raise RuntimeError('The host network for the server could not be set up.')
            self._spawn_guest(ctx, inst, block_devices, network_info)
        except Exception as e:  # noqa: BLE001 - any failure: reschedule elsewhere
            LOG.exception('Build of %s failed on %s', uuid, self.host)
            self.block.disconnect_failed_build(ctx, block_devices)
            self._event(ctx, inst, 'compute_build_and_run_instance', 'finish',
                        result='Error', details=str(e)[:500])
            self.conductor.build_failed(ctx, uuid, self.host, str(e) or type(e).__name__)
            if inst.get('network_info'):
                self._sync_network(ctx)  # the ports moved on: drop their DHCP entries
            return
        done = self._update(ctx, inst, {'vm_state': st.ACTIVE, 'task_state': None,
                                        'power_state': power_state.RUNNING,
                                        'launched_at': 'now'}, expected=[st.SPAWNING])
        if done is None:
            # Deleted while we spawned: the delete is on its way to us (or the
            # books were already closed); take the guest down now.
            LOG.info('Instance %s went away during its build; removing the guest', uuid)
            self.driver.destroy(ctx, inst, cleanup=True)
            return
        self._event(ctx, inst, 'compute_build_and_run_instance', 'finish')

    def _spawn_guest(self, ctx, inst, block_devices, network_info):
        """A new guest for ``inst`` here (a build or an evacuation; its
        network already plumbed): its volumes connected, its disk from its
        image (or its root volume), then the volumes marked attached. Raises
        on any failure; the caller cleans up and reports."""
        bdi = self.block.connect_for_build(ctx, block_devices)
        if inst.get('image_ref'):
            image = self.images.get_image_for_download(ctx, inst['image_ref'])
            with self.cache.using(image) as base:
                self.driver.spawn(ctx, inst, image, base, network_info=network_info,
                                  block_device_info=bdi)
        else:  # booted from a volume: its root volume is its disk
            self.driver.spawn(ctx, inst, {}, None, network_info=network_info,
                              block_device_info=bdi)
        self.block.complete_build(ctx, inst, block_devices)

    def _power(self, ctx, inst, event, fn, final_vm_state, from_task):
        with self._lock(inst['uuid']):
            self._event(ctx, inst, event, 'start')
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                LOG.exception('%s of %s failed', event, inst['uuid'])
                state = self._safe_state(inst)
                self._update(ctx, inst, {'task_state': None, 'power_state': state,
                                         'vm_state': resting_vm_state(state)},
                             expected=[from_task])
                self._event(ctx, inst, event, 'finish', result='Error', details=str(e)[:500])
                return
            self._update(ctx, inst, {'vm_state': final_vm_state, 'task_state': None,
                                     'power_state': self._safe_state(inst)},
                         expected=[from_task])
            self._event(ctx, inst, event, 'finish')

    def _safe_state(self, inst):
        try:
            return self.driver.get_info(inst)['state']
        except Exception:  # noqa: BLE001
            return power_state.NOSTATE

    def stop_instance(self, context, instance):
        self._power(context, instance, 'compute_stop_instance',
                    lambda: self.driver.power_off(instance), st.STOPPED, st.POWERING_OFF)

    def start_instance(self, context, instance):
        self._power(context, instance, 'compute_start_instance',
                    lambda: self.driver.power_on(context, instance, []), st.ACTIVE,
                    st.POWERING_ON)

    def reboot_instance(self, context, instance, reboot_type):
        task = st.REBOOTING_HARD if reboot_type == 'HARD' else st.REBOOTING
        self._power(context, instance, 'compute_reboot_instance',
                    lambda: self.driver.reboot(context, instance, [], reboot_type),
                    st.ACTIVE, task)

    def terminate_instance(self, context, instance):
        with self._lock(instance['uuid']):
            self._terminate(context, instance)

    def _terminate(self, ctx, inst):
        self.driver.destroy(ctx, inst, network_info=[], cleanup=True)
        self.block.release_all(ctx, inst)
        try:
            rpc.call_until_answered(
                lambda: self.conductor.instance_deleted(ctx, inst['uuid'], self.host),
                'the deletion of %s' % inst['uuid'])
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting the deletion of %s; the restart reconcile will',
                      inst['uuid'])
        self._sync_network(ctx)  # its ports are gone from the books now
        with self._locks_guard:
            self._locks.pop(inst['uuid'], None)

    def get_host_uptime(self, context):
        with open('/proc/uptime') as f:
            seconds = float(f.read().split()[0])
        with open('/proc/loadavg') as f:
            load = ', '.join(f.read().split()[:3])
        days, rest = divmod(int(seconds), 86400)
        return ' %s up %d days, %d:%02d,  0 users,  load average: %s' % (
            time.strftime('%H:%M:%S'), days, rest // 3600, rest % 3600 // 60, load)

    def get_console_output(self, context, instance, length=None):
        text = self.driver.get_console_output(instance)
        if length is not None:
            lines = text.splitlines(True)
            text = ''.join(lines[-length:]) if length else ''
        return text

    # -- volumes ------------------------------------------------------------
    def attach_volume(self, context, instance, volume, attachment_id, device=None):
        """Hot-plug a reserved volume; the volume service hears the outcome."""
        with self._lock(instance['uuid']):
            self._event(context, instance, 'compute_attach_volume', 'start')
            try:
                self.block.attach(context, instance, volume, attachment_id, device)
            except Exception as e:  # noqa: BLE001 - reported, reservation given back
                self._event(context, instance, 'compute_attach_volume', 'finish',
                            result='Error', details=str(e)[:500])
                return
            self._event(context, instance, 'compute_attach_volume', 'finish')

    def detach_volume(self, context, instance, volume, attachment_id):
        with self._lock(instance['uuid']):
            self._event(context, instance, 'compute_detach_volume', 'start')
            try:
                self.block.detach(context, instance, volume, attachment_id)
            except Exception as e:  # noqa: BLE001 - reported, volume in-use again
                self._event(context, instance, 'compute_detach_volume', 'finish',
                            result='Error', details=str(e)[:500])
                return
            self._event(context, instance, 'compute_detach_volume', 'finish')

    # -- console ------------------------------------------------------------
    def get_serial_console(self, context, instance):
        """Where the proxy reaches the guest's serial port from this host:
        {'host', 'port'}. Raises ConsoleNotAvailable (409) when the guest
        is not running."""
        return self.driver.get_serial_console(instance)

    # -- pause, suspend, rebuild --------------------------------------------
    def pause_instance(self, context, instance):
        self._power(context, instance, 'compute_pause_instance',
                    lambda: self.driver.pause(instance), st.PAUSED, st.PAUSING)

    def unpause_instance(self, context, instance):
        self._power(context, instance, 'compute_unpause_instance',
                    lambda: self.driver.unpause(instance), st.ACTIVE, st.UNPAUSING)

    def suspend_instance(self, context, instance):
        self._power(context, instance, 'compute_suspend_instance',
                    lambda: self.driver.suspend(context, instance), st.SUSPENDED,
                    st.SUSPENDING)

    def resume_instance(self, context, instance):
        self._power(context, instance, 'compute_resume_instance',
                    lambda: self.driver.resume(context, instance, []), st.ACTIVE,
                    st.RESUMING)

    def rebuild_instance(self, context, instance, image_ref, orig_image_ref, network_info):
        with self._lock(instance['uuid']):
            self._rebuild(context, instance, image_ref, orig_image_ref, network_info)

    def _begin_spawn(self, ctx, inst, event, what):
        """Start ``event`` and move a REBUILDING server on to
        REBUILD_SPAWNING; False (the event marked Error) when it changed
        before this agent got to it (a rebuild or an evacuation)."""
        self._event(ctx, inst, event, 'start')
        if self._update(ctx, inst, {'task_state': st.REBUILD_SPAWNING},
                        expected=[st.REBUILDING]) is not None:
            return True
        LOG.info('%s of %s cancelled: it changed before we started', what.capitalize(),
                 inst['uuid'])
        self._event(ctx, inst, event, 'finish', result='Error',
                    details='The server changed before the %s started.' % what)
        return False

    def _rebuild(self, ctx, inst, image_ref, orig_image_ref, network_info):
        """A stopped server is rebuilt and left off, any other is started.
        A failure puts the old image back in the books and the server rests
        in what the hypervisor says."""
        event = 'compute_rebuild_instance'
        power_on = inst['vm_state'] != st.STOPPED
        if not self._begin_spawn(ctx, inst, event, 'rebuild'):
            return
        try:
            if network_info and not self._sync_network(ctx):
                raise RuntimeError('The host network for the server could not be set up.')
            image = self.images.get_image_for_download(ctx, image_ref)
            with self.cache.using(image) as base:
                self.driver.rebuild(ctx, dict(inst, image_ref=image_ref), image, base,
                                    network_info, power_on=power_on)
        except Exception as e:  # noqa: BLE001 - any failure: back to a resting state
            LOG.exception('Rebuild of %s failed', inst['uuid'])
            state = self._safe_state(inst)
            values = {'vm_state': resting_vm_state(state), 'task_state': None,
                      'power_state': state}
            if not isinstance(e, virt_exception.RebuiltNotStarted):
                values['image_ref'] = orig_image_ref  # the old disk is still there
            self._update(ctx, inst, values, expected=[st.REBUILD_SPAWNING])
            self._event(ctx, inst, event, 'finish', result='Error', details=str(e)[:500])
            return
        self._update(ctx, inst, {'vm_state': st.ACTIVE if power_on else st.STOPPED,
                                 'task_state': None, 'power_state': self._safe_state(inst),
                                 'launched_at': 'now'}, expected=[st.REBUILD_SPAWNING])
        self._event(ctx, inst, event, 'finish')

    # -- snapshots ----------------------------------------------------------
    def snapshot_instance(self, context, instance, image_id, upload_url):
        """Copy the root disk into the queued image ``image_id`` and PUT it
        to ``upload_url`` (compute/snapshot.py); the instance's lock is held
        while the disk is copied, not while it uploads."""
        self.snapshots.take(context, instance, image_id, upload_url)

    # -- resize -------------------------------------------------------------
    # On this host the guest is redefined in place with the new flavor's
    # vCPUs and memory (its root disk grown, never shrunk); a migration
    # whose destination is another host goes to compute/coldmig.py. The
    # books (flavor, both claims, quota) are the scheduler's: each step
    # reports there (conductor.resize / conductor.resizes).
    def _resize_report(self, ctx, inst, migration, step, ok, message=None, state=None):
        state = self._safe_state(inst) if state is None else state
        try:
            return rpc.call_until_answered(
                lambda: self.conductor.resize_report(ctx, inst['uuid'], migration['uuid'],
                                                     step, ok, state, message=message),
                'the %s report of %s' % (step, inst['uuid']))
        except messaging.MessagingTimeout:
            LOG.error('Gave up reporting the %s of %s; the restart reconcile will', step,
                      inst['uuid'])
            return None

    def _resize_to(self, ctx, inst, migration, step, flavor, power_on):
        """Redefine the guest with ``flavor`` and report the ``step``;
        False if the driver failed (reported as such)."""
        event = 'compute_%s' % ('resize_instance' if step == 'resize' else step + '_resize')
        try:
            self.driver.resize(ctx, dict(inst, flavor=flavor), [], power_on=power_on)
        except Exception as e:  # noqa: BLE001 - any failure: back to a resting state
            LOG.exception('%s of %s failed', event, inst['uuid'])
            message = '%s failed on %s: %s' % ('Resize' if step == 'resize' else 'Revert',
                                                self.host, e)
            self._resize_report(ctx, inst, migration, step, False, message=message)
            self._event(ctx, inst, event, 'finish', result='Error', details=message[:500])
            return False
        self._resize_report(ctx, inst, migration, step, True)
        self._event(ctx, inst, event, 'finish')
        return True

    def resize_instance(self, context, instance, migration):
        """To the new flavor; a stopped server stays stopped (VERIFY_RESIZE)."""
        with self._lock(instance['uuid']):
            event = 'compute_resize_instance'
            self._event(context, instance, event, 'start')
            if self._update(context, instance, {'task_state': st.RESIZE_MIGRATING},
                            expected=[st.RESIZE_PREP]) is None:
                LOG.info('Resize of %s cancelled: it changed before we started',
                         instance['uuid'])
                self._event(context, instance, event, 'finish', result='Error',
                            details='The server changed before the resize started.')
                return
            instance = dict(instance, task_state=st.RESIZE_MIGRATING)
            if coldmig.is_move(migration):
                self.moves.send(context, instance, migration)
                return
            self._resize_to(context, instance, migration, 'resize', migration['new_flavor'],
                            power_on=instance['vm_state'] != st.STOPPED)

    def confirm_resize(self, context, instance, migration):
        """Nothing of the old flavor is left on this host (the guest was
        redefined in place): the books give back the old claim."""
        with self._lock(instance['uuid']):
            if coldmig.is_move(migration):  # sent to the source
                self.moves.confirm(context, instance, migration)
                return
            self._event(context, instance, 'compute_confirm_resize', 'start')
            self._resize_report(context, instance, migration, 'confirm', True)
            self._event(context, instance, 'compute_confirm_resize', 'finish')

    def revert_resize(self, context, instance, migration):
        """Back to the old flavor's vCPUs and memory, running if it ran
        before the resize. A root disk the resize grew stays grown: qcow2
        cannot give a guest's blocks back safely, and a flavor's root_gb
        is a minimum for the guest."""
        with self._lock(instance['uuid']):
            if coldmig.is_move(migration):  # sent to the destination
                self.moves.revert(context, instance, migration)
                return
            self._event(context, instance, 'compute_revert_resize', 'start')
            self._resize_to(context, instance, migration, 'revert', migration['old_flavor'],
                            power_on=migration.get('vm_state_before') != st.STOPPED)

    def _init_resize(self, ctx, inst, exists):
        """After a restart: a resize cut short goes back to the old flavor
        (and its books with it), a confirm is finished, a revert redone."""
        migration = inst.get('migration')
        task = inst['task_state']
        if migration is None:  # the books have no open resize: just settle
            self._update(ctx, inst, {'task_state': None,
                                     'power_state': self._safe_state(inst)},
                         expected=[task])
            return
        if coldmig.is_move(migration):
            self.moves.init_resize(ctx, inst, exists)
            return
        if task == st.RESIZE_CONFIRMING:
            self._resize_report(ctx, inst, migration, 'confirm', True)
            return
        power_on = migration.get('vm_state_before') != st.STOPPED
        if task == st.RESIZE_REVERTING:
            if exists:
                self._resize_to(ctx, inst, migration, 'revert', migration['old_flavor'],
                                power_on)
            else:
                self._resize_report(ctx, inst, migration, 'revert', False,
                                    message='The guest was lost on host %s.' % self.host)
            return
        if exists:
            try:
                self.driver.resize(ctx, dict(inst, flavor=migration['old_flavor']), [],
                                   power_on=power_on)
            except Exception:  # noqa: BLE001 - reported below as the resize's failure
                LOG.exception('Could not give %s its old flavor back', inst['uuid'])
        self._resize_report(ctx, inst, migration, 'resize', False,
                            message='The compute agent restarted during the resize.')

    # -- moves between hosts (compute/coldmig.py) ----------------------------
    def finish_migration(self, context, instance, migration, disk_url):
        with self._lock(instance['uuid']):
            return self.moves.receive(context, instance, migration, disk_url)

    def finish_revert_migration(self, context, instance, migration):
        with self._lock(instance['uuid']):
            self.moves.finish_revert(context, instance, migration)

    def cleanup_migration(self, context, instance, migration):
        with self._lock(instance['uuid']):
            self.moves.drop(context, instance)
            self._sync_network(context)
    # -- evacuation -----------------------------------------------------------
    def evacuate_instance(self, context, instance, migration, network_info):
        """Rebuild here a server whose host is down (compute/evacuate.py)."""
        with self._lock(instance['uuid']):
            self.evacuations.rebuild(context, instance, migration, network_info)

    # -- live migration (compute/live_migration.py) ------------------------
    def check_live_migration_destination(self, context, instance):
        return self.live_migrations.check_destination(context, instance)

    def pre_live_migration(self, context, instance, migration, source):
        return self.live_migrations.prepare(context, instance, migration, source)

    def rollback_live_migration_at_destination(self, context, instance):
        return self.live_migrations.rollback(context, instance)

    def live_migration(self, context, instance, migration):
        self.live_migrations.migrate(context, instance, migration)

    # -- network ------------------------------------------------------------
    def refresh_network(self, context):
        self._sync_network(context)

    def attach_interface(self, context, instance, vif):
        """Plug one more NIC (its port already bound here) into the guest."""
        with self._lock(instance['uuid']):
            if not self._sync_network(context):
                raise RuntimeError('The host network for the port could not be set up.')
            self.driver.attach_interface(context, instance, None, vif)
            return True

    def detach_interface(self, context, instance, vif):
        with self._lock(instance['uuid']):
            self.driver.detach_interface(context, instance, vif)
            return True
