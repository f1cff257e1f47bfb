"""The libvirt connection of this host: opening it, noticing that it died
and opening it again, lifecycle events, host facts, finding domains."""

import functools
import threading
import time
from xml.etree import ElementTree as ET

import libvirt
from oslo_log import log as logging

from compute.virt import exception
from compute.virt import power_state
from compute.virt.libvirt import designer
from compute.virt.libvirt import guest as guest_mod

LOG = logging.getLogger(__name__)


def libvirt_errors(fn):
    """A libvirt error escaping a driver method becomes a VirtError, so the
    manager (and RPC) only ever see AltostackErrors."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except libvirt.libvirtError as e:
            raise exception.VirtError(reason=str(e)) from e
    return wrapper

DOMAIN_PREFIX = designer.DOMAIN_PREFIX

# libvirt lifecycle event -> the power state it leaves the guest in
_EVENT_STATES = {
    libvirt.VIR_DOMAIN_EVENT_STARTED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_EVENT_RESUMED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: power_state.PAUSED,
    libvirt.VIR_DOMAIN_EVENT_STOPPED: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: power_state.SUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_CRASHED: power_state.CRASHED,
}


def _quiet_error_handler(_ctx, _err):
    """libvirt prints every error on stderr unless told otherwise; we raise."""


libvirt.registerErrorHandler(_quiet_error_handler, None)


class _EventLoop:
    """libvirt's default event loop in one daemon thread (process-wide: it
    must be registered before connections are opened)."""

    _lock = threading.Lock()
    _thread = None

    @classmethod
    def ensure_started(cls):
        with cls._lock:
            if cls._thread is not None:
                return
            libvirt.virEventRegisterDefaultImpl()
            # A periodic timer makes each loop iteration return at least once
            # a second, so the thread never sits in poll() forever.
            libvirt.virEventAddTimeout(1000, lambda _timer, _opaque: None, None)
            cls._thread = threading.Thread(target=cls._run, name='libvirt-events',
                                           daemon=True)
            cls._thread.start()

    @staticmethod
    def _run():
        while True:
            try:
                libvirt.virEventRunDefaultImpl()
            except Exception:  # noqa: BLE001 - keep the loop alive
                LOG.exception('libvirt event loop iteration failed')
                time.sleep(1)


def is_libvirt_error(exc, *codes):
    return isinstance(exc, libvirt.libvirtError) and exc.get_error_code() in codes


class Host:
    """One libvirt connection (thread-safe; libvirt connections are too).

    ``lifecycle_handler(uuid, power_state)`` is called from the event thread
    for our domains; it must return quickly (queue the work).
    """

    def __init__(self, uri, lifecycle_handler=None):
        self.uri = uri
        self._lifecycle_handler = lifecycle_handler
        self._conn = None
        self._conn_lock = threading.Lock()
        self._events = False

    # -- connection -------------------------------------------------------
    @property
    def is_test_driver(self):
        return self.uri.startswith('test:')

    def initialize(self, events=True):
        """Start the event loop (if wanted) and open the connection."""
        if events:
            _EventLoop.ensure_started()
            self._events = True
        return self.get_connection()

    def set_lifecycle_handler(self, handler):
        self._lifecycle_handler = handler

    def _open(self):
        LOG.debug('Connecting to libvirt at %s', self.uri)
        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError as e:
            raise exception.HypervisorUnavailable(uri=self.uri, reason=str(e)) from e
        if self._events:
            try:
                conn.registerCloseCallback(self._on_close, None)
                if not self.is_test_driver:
                    conn.setKeepAlive(5, 3)
                conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            self._on_lifecycle, None)
            except libvirt.libvirtError:
                LOG.warning('libvirt events are not available on %s', self.uri,
                            exc_info=True)
        LOG.info('Connected to libvirt at %s', self.uri)
        return conn

    def _alive(self, conn):
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def get_connection(self):
        """The connection, opened again if it died (libvirtd restarted)."""
        conn = self._conn
        if conn is not None and self._alive(conn):
            return conn
        with self._conn_lock:
            if self._conn is not None and self._alive(self._conn):
                return self._conn
            if self._conn is not None:
                LOG.warning('Connection to libvirt at %s was lost; reconnecting', self.uri)
                self._drop(self._conn)
            self._conn = self._open()
            return self._conn

    def _drop(self, conn):
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
        if self._conn is conn:
            self._conn = None

    def close(self):
        with self._conn_lock:
            if self._conn is not None:
                if self._events:
                    try:
                        self._conn.unregisterCloseCallback()
                    except libvirt.libvirtError:
                        pass
                self._drop(self._conn)

    def _on_close(self, conn, reason, _opaque):
        LOG.warning('libvirt closed the connection to %s (reason %s)', self.uri, reason)
        # Do not call libvirt from here; the next get_connection() reopens.
        if self._conn is conn:
            self._conn = None

    def _on_lifecycle(self, _conn, dom, event, detail, _opaque):
        state = _EVENT_STATES.get(event)
        if event == libvirt.VIR_DOMAIN_EVENT_STOPPED and \
                detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED:
            state = power_state.SUSPENDED  # managed save: suspended, not off
        handler = self._lifecycle_handler
        if state is None or handler is None or not dom.name().startswith(DOMAIN_PREFIX):
            return
        try:
            handler(dom.UUIDString(), state)
        except Exception:  # noqa: BLE001 - never let a handler kill the loop
            LOG.exception('Lifecycle event handler failed')

    # -- domains ----------------------------------------------------------
    def define(self, xml):
        """Define (persistently) the domain ``xml``; return its Guest."""
        return guest_mod.Guest(self.get_connection().defineXML(xml))

    def find_guest(self, uuid):
        try:
            return guest_mod.Guest(self.get_connection().lookupByUUIDString(uuid))
        except libvirt.libvirtError as e:
            if is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                return None
            raise

    def get_guest(self, uuid):
        guest = self.find_guest(uuid)
        if guest is None:
            raise exception.GuestNotFound(instance_id=uuid)
        return guest

    def list_guests(self, only_ours=True):
        """Guests defined on this host, running or not; ``only_ours``: those
        named altostack-* or carrying our metadata."""
        guests = []
        for dom in self.get_connection().listAllDomains(0):
            guest = guest_mod.Guest(dom)
            try:
                if only_ours and not (guest.name.startswith(DOMAIN_PREFIX)
                                      or guest.get_metadata() is not None):
                    continue
            except libvirt.libvirtError as e:
                if is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                    continue  # vanished while we looked
                raise
            guests.append(guest)
        return guests

    def list_domain_configs(self):
        """parse_domain() of every domain on the connection (ours or not)."""
        configs = []
        for guest in self.list_guests(only_ours=False):
            try:
                configs.append(guest.get_config())
            except libvirt.libvirtError as e:
                if not is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                    raise
        return configs

    # -- host facts -------------------------------------------------------
    def get_host_info(self):
        """{'arch', 'memory_mb', 'cpus'} from virNodeGetInfo."""
        info = self.get_connection().getInfo()
        return {'arch': info[0], 'memory_mb': int(info[1]), 'cpus': int(info[2])}

    def get_hypervisor_type(self):
        return self.get_connection().getType()

    def get_hypervisor_version(self):
        return int(self.get_connection().getVersion())

    def get_libvirt_version(self):
        return int(self.get_connection().getLibVersion())

    def get_hostname(self):
        return self.get_connection().getHostname()

    def get_capabilities(self):
        return self.get_connection().getCapabilities()

    def get_cpu_info(self):
        """The host CPU as Nova's cpu_info dict: arch, model, vendor,
        topology {cells, sockets, cores, threads}, features."""
        root = ET.fromstring(self.get_capabilities())
        cpu = root.find('./host/cpu')
        topo = cpu.find('topology') if cpu is not None else None
        info = {
            'arch': cpu.findtext('arch') if cpu is not None else None,
            'model': cpu.findtext('model') if cpu is not None else None,
            'vendor': cpu.findtext('vendor') if cpu is not None else None,
            'topology': {},
            'features': sorted(
                f.get('name') for f in (cpu.findall('feature') if cpu is not None else [])
                if f.get('name')),
        }
        if topo is not None:
            info['topology'] = {k: int(topo.get(k)) for k in ('sockets', 'cores', 'threads')
                                if topo.get(k) is not None}
        cells = root.find('./host/topology/cells')
        if cells is not None and cells.get('num'):
            info['topology']['cells'] = int(cells.get('num'))
        return info
