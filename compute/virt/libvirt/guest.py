"""One libvirt domain: start, stop (politely, then not), reboot, state,
its XML and our metadata in it."""

import time
import xml.etree.ElementTree as ET

import libvirt
from oslo_log import log as logging

from compute.virt import power_state
from compute.virt.libvirt import config

LOG = logging.getLogger(__name__)

# libvirt virDomainState -> Nova power state. A guest that is shutting down
# is still running until it is off.
LIBVIRT_POWER_STATE = {
    libvirt.VIR_DOMAIN_NOSTATE: power_state.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: power_state.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: power_state.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: power_state.RUNNING,
    libvirt.VIR_DOMAIN_SHUTOFF: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: power_state.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: power_state.SUSPENDED,
}

POLL_INTERVAL = 0.25
# A guest may miss an ACPI button press (early in boot); ask again this often.
SHUTDOWN_RETRY_INTERVAL = 10


class Guest:
    def __init__(self, domain):
        self._domain = domain

    @property
    def uuid(self):
        return self._domain.UUIDString()

    @property
    def name(self):
        return self._domain.name()

    def __repr__(self):
        return '<Guest %s>' % self.name

    # -- state ------------------------------------------------------------
    def get_power_state(self):
        state, _reason = self._domain.state()
        return self._power_state(state)

    def _power_state(self, state):
        # A guest saved by managedSave is "shut off" to libvirt and resumes
        # where it was at its next start: suspended, for us.
        if state == libvirt.VIR_DOMAIN_SHUTOFF and self.has_managed_save():
            return power_state.SUSPENDED
        return LIBVIRT_POWER_STATE.get(state, power_state.NOSTATE)

    def has_managed_save(self):
        return bool(self._domain.hasManagedSaveImage(0))

    def is_active(self):
        return bool(self._domain.isActive())

    def get_info(self):
        """{'power_state', 'max_mem_kib', 'mem_kib', 'vcpus', 'cpu_time_ns'}."""
        state, max_mem, mem, vcpus, cpu_time = self._domain.info()
        return {'power_state': self._power_state(state),
                'max_mem_kib': max_mem, 'mem_kib': mem, 'vcpus': vcpus,
                'cpu_time_ns': cpu_time}

    def get_xml_desc(self):
        return self._domain.XMLDesc(0)

    def get_config(self):
        return config.parse_domain(self.get_xml_desc())

    def get_inactive_xml_desc(self):
        """The persistent definition (what the next start uses)."""
        return self._domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    def find_interface(self, mac, inactive=False):
        """The <interface> with ``mac`` as XML text (live definition, or the
        persistent one with ``inactive``), or None."""
        xml = self.get_inactive_xml_desc() if inactive else self.get_xml_desc()
        return config.find_interface(xml, mac)

    def find_disk(self, serial, inactive=False):
        """The <disk> whose serial is ``serial`` as XML text (live or, with
        ``inactive``, persistent definition), or None."""
        xml = self.get_inactive_xml_desc() if inactive else self.get_xml_desc()
        return config.find_disk_by_serial(xml, serial)

    def disk_targets(self):
        """Disk targets used live or in the persistent definition."""
        targets = set(config.disk_targets(self.get_xml_desc()))
        targets.update(config.disk_targets(self.get_inactive_xml_desc()))
        return targets

    # -- devices ----------------------------------------------------------
    @staticmethod
    def _flags(live, persistent=True):
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if persistent else 0
        if live:
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        return flags

    def attach_device(self, xml, live, persistent=True):
        """Add a device to the persistent definition and, with ``live``, to
        the running guest (hot-plug)."""
        self._domain.attachDeviceFlags(xml, self._flags(live, persistent))

    def detach_device(self, xml, live, persistent=True):
        """Remove a device from the persistent definition and/or ask the
        running guest to release it (it leaves when the guest agrees)."""
        self._domain.detachDeviceFlags(xml, self._flags(live, persistent))

    def set_metadata(self, md):
        """Replace our <metadata> element (persistent definition, and the
        live one when the guest runs) with ``md`` (an InstanceMetadata)."""
        flags = self._flags(self.is_active())
        root = md.to_element()
        for el in root.iter():  # libvirt puts the element in our namespace itself
            el.tag = el.tag.rpartition('}')[2]
        self._domain.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                 ET.tostring(root, encoding='unicode'),
                                 config.METADATA_PREFIX, config.METADATA_NS, flags)

    # -- block jobs -------------------------------------------------------
    def copy_disk(self, target, dest_path, timeout, poll_interval=0.1):
        """Copy disk ``target`` (vda) of the running guest into a new
        standalone qcow2 at ``dest_path`` (libvirt creates it), as it is at
        one instant: a full block copy mirrors the disk, and once the copy
        has caught up the job is ended without a pivot, so the guest keeps
        its own disk and the copy stays as it was at that moment. Raises
        TimeoutError if the copy does not catch up within ``timeout``
        seconds (the job is cancelled)."""
        dest = ET.Element('disk', type='file')
        ET.SubElement(dest, 'driver', type='qcow2')
        ET.SubElement(dest, 'source', file=dest_path)
        self._domain.blockCopy(target, ET.tostring(dest, encoding='unicode'), None,
                               libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
        try:
            deadline = time.monotonic() + timeout
            while True:
                info = self._domain.blockJobInfo(target, 0)
                if not info:
                    raise libvirt.libvirtError('the block copy of %s on %s ended on its '
                                               'own' % (target, self.name))
                # libvirt reports cur == end only once the mirror is ready.
                if info.get('end') and info.get('cur') == info.get('end'):
                    break
                if time.monotonic() >= deadline:
                    raise TimeoutError('the copy of %s did not catch up within %ss'
                                       % (target, timeout))
                time.sleep(poll_interval)
            self._domain.blockJobAbort(target, 0)  # synchronous; no pivot
        except BaseException:
            self.abort_block_job(target)
            raise

    def abort_block_job(self, target):
        """Cancel a block job on ``target``; no job is not an error."""
        try:
            if self._domain.blockJobInfo(target, 0):
                self._domain.blockJobAbort(target, 0)
        except libvirt.libvirtError as e:
            LOG.warning('Could not cancel the block job on %s of %s: %s', target,
                        self.name, e)

    def get_metadata(self):
        """Our InstanceMetadata, or None if the domain carries none."""
        try:
            xml = self._domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                        config.METADATA_NS)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
                return None
            raise
        return config.InstanceMetadata.parse(xml)

    # -- life cycle -------------------------------------------------------
    def launch(self):
        """Start the defined domain."""
        self._domain.create()

    def pause(self):
        """Freeze the running guest's vCPUs (it keeps its memory); a
        paused guest already is fine."""
        state, _reason = self._domain.state()
        if state != libvirt.VIR_DOMAIN_PAUSED:
            self._domain.suspend()

    def unpause(self):
        """Let a paused guest run again; a running guest already is fine."""
        state, _reason = self._domain.state()
        if state == libvirt.VIR_DOMAIN_PAUSED:
            self._domain.resume()

    def managed_save(self):
        """Save the guest's memory to libvirt's managed save file and stop
        it; its next start resumes from there. Off already is fine."""
        if self.is_active():
            self._domain.managedSave(0)

    def discard_managed_save(self):
        if self.has_managed_save():
            self._domain.managedSaveRemove(0)

    def poweroff(self):
        """Force the domain off (like pulling the plug); off already is fine."""
        try:
            self._domain.destroy()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID or self.is_active():
                raise

    def _wait_off(self, deadline, resend_at=None):
        while True:
            if not self.is_active():
                return True
            now = time.monotonic()
            if now >= deadline:
                return False
            if resend_at is not None and now >= resend_at:
                self._request_shutdown()
                resend_at = now + SHUTDOWN_RETRY_INTERVAL
            time.sleep(min(POLL_INTERVAL, max(0.0, deadline - now)))

    def _request_shutdown(self):
        try:
            self._domain.shutdown()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise  # not running is fine: it is off

    def shutdown(self, timeout):
        """Ask the guest to power off (ACPI) and wait up to ``timeout``
        seconds; then force it off. Returns 'off' (it was off already),
        'graceful' or 'forced'."""
        if not self.is_active():
            return 'off'
        if timeout and timeout > 0:
            self._request_shutdown()
            start = time.monotonic()
            if self._wait_off(start + timeout, start + SHUTDOWN_RETRY_INTERVAL):
                return 'graceful'
            LOG.info('%s did not power off within %ss; forcing it off', self.name, timeout)
        self.poweroff()
        return 'forced'

    def reboot(self, reboot_type, timeout):
        """'SOFT': shut down gracefully within ``timeout`` then start; falls
        back to HARD. 'HARD': force off and start. Returns 'soft' or 'hard'."""
        if reboot_type == 'SOFT' and self.is_active():
            if self.shutdown(timeout) == 'graceful':
                self.launch()
                return 'soft'
        else:
            self.poweroff()
            self.discard_managed_save()  # a hard reboot boots afresh
        self.launch()
        return 'hard'

    def undefine(self):
        """Remove the domain's definition (it must be off)."""
        flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                 | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                 | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        try:
            self._domain.undefineFlags(flags)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            if e.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT,
                                          libvirt.VIR_ERR_INVALID_ARG):
                raise
            self.discard_managed_save()  # plain undefine refuses while one exists
            self._domain.undefine()
