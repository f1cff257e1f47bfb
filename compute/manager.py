"""Compute agent RPC endpoints. Holds no database credentials: what it
knows of instances comes in RPC arguments, and what it learns it reports
to the conductor, which keeps the records (its resources and heartbeats go to
the scheduler).

Thin: each endpoint takes the instance's lock and hands off to the driver
or to the flow that does the job (one module each, all sharing this agent's
public parts: guests, reports, netsync, block, conductor, driver, ...):

    guests.py          instance locks, power state, build, terminate
    state_reports.py   state changes, events and resize steps to the records
    netsync.py         the host network kept in step with the records
    power_sync.py      the records told what the hypervisor says
    reconcile.py       libvirt and the records made to agree after a restart
    resize.py          resize in place (and the dispatch of a resize's steps)
    coldmig.py, evacuate.py, live_migration.py, snapshot.py, blockdev.py

A public method here is an RPC endpoint (oslo.messaging calls any name
without a leading underscore): what the flows share is on those objects,
never a method of the manager.
"""

import time

import oslo_messaging as messaging
from oslo_log import log as logging

from common import context as ctx_mod
from common import instance_states as st
from common import periodic
from common.conf import CONF
from compute import blockdev
from compute import coldmig
from compute import evacuate
from compute import guests
from compute import imagecache
from compute import live_migration
from compute import netsync
from compute import power_sync
from compute import reconcile
from compute import resize
from compute import rpcapi as compute_rpcapi
from compute import snapshot
from compute import state_reports
from compute.virt import driver as virt_driver
from compute.virt import exception as virt_exception
from conductor import rpcapi as conductor_rpcapi
from imagestore import rpcapi as image_rpcapi
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)

# Seconds the first resource report waits for the scheduler, try by try.
REPORT_TIMEOUTS = (3, 6, 12, 24)


class ComputeManager:
    target = messaging.Target(version='1.11')

    def __init__(self, driver=None):
        self.host = CONF.host
        self.driver = driver
        self.scheduler = scheduler_rpcapi.SchedulerAPI()
        self.conductor = conductor_rpcapi.ConductorAPI()
        self.images = image_rpcapi.ImageAPI()
        self.cache = imagecache.ImageCache()
        self.block = blockdev.BlockDevices(lambda: self.driver)
        self.guests = guests.Guests(self)
        self.reports = state_reports.StateReports(self)
        self._reconciled = False
        self._reported = False
        self.netsync = netsync.NetworkSync(self)
        self.snapshots = snapshot.Snapshots(self)
        self.compute_api = compute_rpcapi.ComputeAPI()
        self.resizes = resize.Resizes(self)
        self.moves = coldmig.ColdMoves(self)
        self.evacuations = evacuate.Evacuations(self)
        self.live_migrations = live_migration.LiveMigrations(self)
        self.power_sync = power_sync.PowerSync(self)
        self.reconciler = reconcile.Reconcile(self)

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
        """Make libvirt and the records agree after a (re)start (reconcile.py)."""
        self.reconciler.run()

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
        # Each try waits longer: a scheduler busy with many agents joining
        # at once answers late, and a retry after 3 s only queued one more
        # report behind the first (a retry storm that grew with the agents).
        tries = 1 if self._reported else 10
        for attempt in range(tries):
            try:
                self.scheduler.update_compute_node(ctx_mod.get_admin_context(), self.host,
                                                   res, timeout=REPORT_TIMEOUTS[
                                                       min(attempt, len(REPORT_TIMEOUTS) - 1)])
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
                LOG.warning('Conductor did not answer; reconciling later')

    @periodic.periodic(lambda: CONF.compute.sync_power_state_interval)
    def sync_power_states(self):
        """Tell the records what the hypervisor says of each resting guest."""
        if not self._reconciled:
            return
        self.power_sync.run()

    @periodic.periodic(lambda: min(5, CONF.network.sync_interval), run_immediately=True)
    def sync_network(self):
        """Make the host's bridges, DHCP, firewall and NAT match the records:
        every [network] sync_interval seconds, and within seconds after a
        sync that failed (the scheduler away, a command that failed)."""
        if self.netsync.due():
            self.netsync.sync(ctx_mod.get_admin_context())

    @periodic.periodic(600)
    def clean_image_cache(self):
        active = {i['image_ref'] for i in self.conductor.get_host_instances(
            ctx_mod.get_admin_context(), self.host) if i.get('image_ref')}
        self.cache.cleanup_unused(active)

    # -- RPC endpoints ------------------------------------------------------
    def ping(self, context):
        return {'service': 'compute', 'host': self.host}

    def build_and_run_instance(self, context, instance):
        with self.guests.lock(instance['uuid']):
            self.guests.build(context, instance)

    def _power(self, ctx, inst, event, fn, final_vm_state, from_task):
        with self.guests.lock(inst['uuid']):
            self.reports.event(ctx, inst, event, 'start')
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                LOG.exception('%s of %s failed', event, inst['uuid'])
                state = self.guests.power_state(inst)
                self.reports.update(ctx, inst, {'task_state': None, 'power_state': state,
                                                'vm_state': guests.resting_vm_state(state)},
                                    expected=[from_task])
                self.reports.event(ctx, inst, event, 'finish', result='Error',
                                   details=str(e)[:500])
                return
            self.reports.update(ctx, inst, {'vm_state': final_vm_state, 'task_state': None,
                                            'power_state': self.guests.power_state(inst)},
                                expected=[from_task])
            self.reports.event(ctx, inst, event, 'finish')

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
        with self.guests.lock(instance['uuid']):
            self.guests.terminate(context, instance)

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
        with self.guests.lock(instance['uuid']):
            self.reports.event(context, instance, 'compute_attach_volume', 'start')
            try:
                self.block.attach(context, instance, volume, attachment_id, device)
            except Exception as e:  # noqa: BLE001 - reported, reservation given back
                self.reports.event(context, instance, 'compute_attach_volume', 'finish',
                                   result='Error', details=str(e)[:500])
                return
            self.reports.event(context, instance, 'compute_attach_volume', 'finish')

    def detach_volume(self, context, instance, volume, attachment_id):
        with self.guests.lock(instance['uuid']):
            self.reports.event(context, instance, 'compute_detach_volume', 'start')
            try:
                self.block.detach(context, instance, volume, attachment_id)
            except Exception as e:  # noqa: BLE001 - reported, volume in-use again
                self.reports.event(context, instance, 'compute_detach_volume', 'finish',
                                   result='Error', details=str(e)[:500])
                return
            self.reports.event(context, instance, 'compute_detach_volume', 'finish')

    # -- console ------------------------------------------------------------
    def get_serial_console(self, context, instance):
        """Where the proxy reaches the guest's serial port from this host:
        {'host', 'port'}. Raises ConsoleNotAvailable (409) when the guest
        is not running."""
        return self.driver.get_serial_console(instance)

    def get_vnc_console(self, context, instance):
        """Where the noVNC proxy reaches the guest's VNC display from this
        host: {'host', 'port'}. Raises GraphicalConsoleNotAvailable (409)
        when the guest is not running or has no display."""
        return self.driver.get_vnc_console(instance)

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
        with self.guests.lock(instance['uuid']):
            self._rebuild(context, instance, image_ref, orig_image_ref, network_info)

    def _rebuild(self, ctx, inst, image_ref, orig_image_ref, network_info):
        """A stopped server is rebuilt and left off, any other is started.
        A failure puts the old image back in the records and the server rests
        in what the hypervisor says."""
        event = 'compute_rebuild_instance'
        power_on = inst['vm_state'] != st.STOPPED
        if not self.reports.begin_spawn(ctx, inst, event, 'rebuild'):
            return
        try:
            if network_info and not self.netsync.sync(ctx):
                raise RuntimeError('The host network for the server could not be set up.')
            image = self.images.get_image_for_download(ctx, image_ref)
            with self.cache.using(image) as base:
                self.driver.rebuild(ctx, dict(inst, image_ref=image_ref), image, base,
                                    network_info, power_on=power_on)
        except Exception as e:  # noqa: BLE001 - any failure: back to a resting state
            LOG.exception('Rebuild of %s failed', inst['uuid'])
            state = self.guests.power_state(inst)
            values = {'vm_state': guests.resting_vm_state(state), 'task_state': None,
                      'power_state': state}
            if not isinstance(e, virt_exception.RebuiltNotStarted):
                values['image_ref'] = orig_image_ref  # the old disk is still there
            self.reports.update(ctx, inst, values, expected=[st.REBUILD_SPAWNING])
            self.reports.event(ctx, inst, event, 'finish', result='Error', details=str(e)[:500])
            return
        self.reports.update(ctx, inst, {'vm_state': st.ACTIVE if power_on else st.STOPPED,
                                        'task_state': None,
                                        'power_state': self.guests.power_state(inst),
                                        'launched_at': 'now'}, expected=[st.REBUILD_SPAWNING])
        self.reports.event(ctx, inst, event, 'finish')

    # -- snapshots ----------------------------------------------------------
    def snapshot_instance(self, context, instance, image_id, upload_url):
        """Copy the root disk into the queued image ``image_id`` and PUT it
        to ``upload_url`` (compute/snapshot.py); the instance's lock is held
        while the disk is copied, not while it uploads."""
        self.snapshots.take(context, instance, image_id, upload_url)

    # -- resize (compute/resize.py; to another host: compute/coldmig.py) -----
    def resize_instance(self, context, instance, migration):
        with self.guests.lock(instance['uuid']):
            self.resizes.resize(context, instance, migration)

    def confirm_resize(self, context, instance, migration):
        with self.guests.lock(instance['uuid']):
            self.resizes.confirm(context, instance, migration)

    def revert_resize(self, context, instance, migration):
        with self.guests.lock(instance['uuid']):
            self.resizes.revert(context, instance, migration)

    # -- moves between hosts (compute/coldmig.py) ----------------------------
    def finish_migration(self, context, instance, migration, disk_url):
        with self.guests.lock(instance['uuid']):
            return self.moves.receive(context, instance, migration, disk_url)

    def finish_revert_migration(self, context, instance, migration):
        with self.guests.lock(instance['uuid']):
            self.moves.finish_revert(context, instance, migration)

    def cleanup_migration(self, context, instance, migration):
        with self.guests.lock(instance['uuid']):
            self.moves.drop(context, instance)
            self.netsync.sync(context)

    # -- evacuation -----------------------------------------------------------
    def evacuate_instance(self, context, instance, migration, network_info):
        """Rebuild here a server whose host is down (compute/evacuate.py)."""
        with self.guests.lock(instance['uuid']):
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
        self.netsync.sync(context)

    def attach_interface(self, context, instance, vif):
        """Plug one more NIC (its port already bound here) into the guest."""
        with self.guests.lock(instance['uuid']):
            if not self.netsync.sync(context):
                raise RuntimeError('The host network for the port could not be set up.')
            self.driver.attach_interface(context, instance, None, vif)
            return True

    def detach_interface(self, context, instance, vif):
        with self.guests.lock(instance['uuid']):
            self.driver.detach_interface(context, instance, vif)
            return True
