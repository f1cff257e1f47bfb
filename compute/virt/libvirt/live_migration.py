"""Live migration with libvirt, between hosts whose instance folders are
not shared (RECIPES item 6, with the disk copied).

The destination prepares (prepare): its own instance folder with a qcow2
overlay of the same virtual size on its own cached base image, a config
drive made anew, a console port of its own, and the domain XML the guest
will have there (destination_xml: the source's migratable XML with the
destination's paths and port, its VNC display on the destination's
[vnc] server_listen). The source then runs a peer-to-peer live
migration (migrate): libvirt copies the overlay's blocks while the guest
runs (VIR_MIGRATE_NON_SHARED_INC, only vda: the config drive is read-only
and volumes are the volume service's), then its memory, pauses it for the
last pages, starts it on the destination, defines it there with the same
XML and undefines it here. A failure leaves the guest running here; the
destination removes what it prepared (rollback).
"""

import os
import shutil
import threading
import time
from xml.etree import ElementTree as ET

import libvirt
from oslo_log import log as logging

from common.conf import CONF
from common.host import disk
from compute.virt import configdrive
from compute.virt import exception

LOG = logging.getLogger(__name__)

ROOT_TARGET = 'vda'
CONFIG_DRIVE_TARGET = 'hda'
FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
         libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


def inbound_addr():
    return CONF.live_migration.inbound_addr or CONF.my_ip


def _uri(template):
    """A [live_migration] URI template with this host's inbound address."""
    return template % inbound_addr() if '%s' in template else template


def destination_xml(xml, disk_path, config_drive_path, console_host, console_port,
                    console_log, volume_disk=None, vnc_listen=None):
    """The domain XML of the guest on the destination: the source's with
    the root disk, config drive, serial console port and its log in the
    destination's places, its VNC display on ``vnc_listen`` (a port of
    the destination's choosing), and each volume's disk (its <serial> is the
    volume id) as ``volume_disk(volume_id, target_dev)`` (an Element, or
    None to keep it) makes it for the destination's connection; everything
    else (NICs, sizes, UUID, metadata) as it was."""
    root = ET.fromstring(xml)
    devices = root.find('devices')
    for dev in root.findall('./devices/disk'):
        target = dev.find('target')
        src = dev.find('source')
        serial = dev.findtext('serial')
        if serial and volume_disk is not None and target is not None:
            new = volume_disk(serial, target.get('dev'))
            if new is not None:
                for child in dev.findall('address') + dev.findall('alias'):
                    new.append(child)  # same slot in the guest
                devices.insert(list(devices).index(dev), new)
                devices.remove(dev)
            continue
        if target is None or src is None or dev.get('type') != 'file':
            continue
        if target.get('dev') == ROOT_TARGET and disk_path:
            src.set('file', disk_path)
        elif target.get('dev') == CONFIG_DRIVE_TARGET:
            src.set('file', config_drive_path)
    for kind in ('serial', 'console'):
        for dev in root.findall('./devices/%s' % kind):
            if dev.get('type') != 'tcp':
                continue
            src = dev.find('source')
            if src is not None:
                src.set('host', console_host)
                src.set('service', str(int(console_port)))
            log = dev.find('log')
            if log is not None:
                log.set('file', console_log)
    for dev in root.findall('./devices/graphics'):
        _graphics_here(dev, vnc_listen)
    return ET.tostring(root, encoding='unicode')


def _graphics_here(dev, address):
    """A VNC display listens on this host's [vnc] server_listen (the
    source's address means nothing here) on a port libvirt picks here."""
    if dev.get('type') != 'vnc' or not address:
        return
    if dev.get('listen') is not None:
        dev.set('listen', address)
    for listen in dev.findall('listen'):
        if listen.get('type') == 'address':
            listen.set('address', address)
    if dev.get('autoport') == 'yes':
        dev.attrib.pop('port', None)


def _completed_stats(dom):
    """Libvirt's figures of the finished migration job (ms, bytes); kept
    for others to read too (virsh domjobinfo --completed)."""
    try:
        stats = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED |
                             libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
    except libvirt.libvirtError as e:
        LOG.info('No completed job figures for %s: %s', dom.UUIDString(), e)
        return {}
    return {k: stats[k] for k in ('time_elapsed', 'downtime', 'data_processed',
                                  'disk_processed', 'memory_processed')
            if k in stats}


class LiveMigration:
    """The libvirt driver's live migration steps (the driver delegates)."""

    def __init__(self, driver, disk_name, config_drive_name, console_log_name):
        self.driver = driver
        self.names = {'disk': disk_name, 'config_drive': config_drive_name,
                      'console_log': console_log_name}

    # -- destination ----------------------------------------------------------
    def check_destination(self):
        """None when this host's libvirtd takes incoming migrations at its
        inbound address, else why not."""
        uri = _uri(CONF.live_migration.connect_uri)
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as e:
            return ('host %s does not accept live migrations: its libvirtd does not answer '
                    'at %s (%s)' % (CONF.host, uri, e.get_error_message()))
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
        return None

    def source_info(self, instance):
        """What the destination needs of the guest here: its migratable
        domain XML and the virtual size of its root disk (None: booted from
        a volume)."""
        uuid = instance['uuid']
        guest = self.driver.host.get_guest(uuid)
        xml = guest._domain.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE |
                                    libvirt.VIR_DOMAIN_XML_SECURE)
        header = disk.read_qcow2_header(os.path.join(self.driver.instance_dir(uuid),
                                                     self.names['disk']))
        return {'xml': xml, 'disk_size': header['virtual_size'] if header else None}

    def prepare(self, instance, image_meta, base_path, network_info, source, volumes=None):
        """Make the guest's place here; ``volumes`` {volume id: connection
        info for this host}. Answers what the source migrates with: {'xml'
        (its XML here), 'connect_uri', 'migrate_uri'}."""
        volumes = volumes or {}

        def volume_disk(volume_id, dev):
            conn = volumes.get(volume_id)
            if conn is None:
                return None
            return self.driver._volume_config(conn, volume_id, dev).to_element()

        uuid = instance['uuid']
        drv = self.driver
        with drv._locks(uuid):
            if drv.host.find_guest(uuid) is not None:
                raise exception.InstanceExists(instance_id=uuid)
            inst_dir = drv.instance_dir(uuid)
            try:
                if os.path.exists(inst_dir):
                    LOG.warning('Removing stale files of %s before it migrates here', uuid)
                    shutil.rmtree(inst_dir)
                os.makedirs(inst_dir)
                disk_path = None
                if source.get('disk_size'):
                    disk_path = os.path.join(inst_dir, self.names['disk'])
                    disk.create_overlay(base_path, image_meta['disk_format'], disk_path,
                                        int(source['disk_size']))
                cd_path = os.path.join(inst_dir, self.names['config_drive'])
                configdrive.build(instance, network_info or [], cd_path)
                # A free port now; the guest's qemu binds it when it arrives
                # (a spawn that takes it meanwhile makes the migration fail
                # cleanly: the guest stays on its source).
                with drv.ports.reserve() as port:
                    xml = destination_xml(source['xml'], disk_path, cd_path,
                                          CONF.compute.console_host, port,
                                          os.path.join(inst_dir, self.names['console_log']),
                                          volume_disk, vnc_listen=CONF.vnc.server_listen)
            except Exception:
                shutil.rmtree(inst_dir, ignore_errors=True)
                raise
        LOG.info('Prepared %s to arrive here (console port %d)', uuid, port)
        return {'xml': xml, 'connect_uri': _uri(CONF.live_migration.connect_uri),
                'migrate_uri': _uri(CONF.live_migration.migrate_uri)}

    def rollback(self, context, instance):
        """Remove what a failed migration left here (domain, folder)."""
        self.driver.destroy(context, instance, cleanup=True)

    # -- source ---------------------------------------------------------------
    def migrate(self, instance, dest):
        """Move the running guest to the destination described by ``dest``
        ({'xml', 'connect_uri', 'migrate_uri'}); blocks until done. Aborted
        after [live_migration] completion_timeout. Answers libvirt's figures
        of the job: time_elapsed and downtime (ms), data_processed (bytes)."""
        uuid = instance['uuid']
        drv = self.driver
        lm = CONF.live_migration
        with drv._locks(uuid):
            guest = drv.host.get_guest(uuid)
            dom = guest._domain
            params = {libvirt.VIR_MIGRATE_PARAM_URI: dest['migrate_uri'],
                      libvirt.VIR_MIGRATE_PARAM_DEST_XML: dest['xml'],
                      libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: dest['xml']}
            flags = FLAGS
            if os.path.exists(os.path.join(drv.instance_dir(uuid), self.names['disk'])):
                params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] = [ROOT_TARGET]
                flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
            if lm.bandwidth:
                params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = lm.bandwidth
            timer = threading.Timer(lm.completion_timeout, self._abort, (dom, uuid))
            timer.daemon = True
            t0 = time.monotonic()
            timer.start()
            try:
                dom.migrateToURI3(dest['connect_uri'], params, flags)
            except libvirt.libvirtError as e:
                raise exception.VirtError(reason='live migration of %s failed: %s'
                                          % (uuid, e.get_error_message())) from e
            finally:
                timer.cancel()
            wall = time.monotonic() - t0
        stats = self._dest_stats(dest['connect_uri'], uuid)
        stats['wall_seconds'] = round(wall, 3)
        LOG.info('Live-migrated %s to %s in %.2fs: %s', uuid, dest['connect_uri'], wall, stats)
        return stats

    @staticmethod
    def _abort(dom, uuid):
        LOG.warning('Live migration of %s took longer than %ds: aborting it', uuid,
                    CONF.live_migration.completion_timeout)
        try:
            dom.abortJob()
        except libvirt.libvirtError as e:
            LOG.warning('Could not abort the migration of %s: %s', uuid, e)

    @staticmethod
    def _dest_stats(connect_uri, uuid):
        try:
            conn = libvirt.open(connect_uri)
        except libvirt.libvirtError as e:
            LOG.info('Could not read the migration figures of %s: %s', uuid, e)
            return {}
        try:
            return _completed_stats(conn.lookupByUUIDString(uuid))
        except libvirt.libvirtError as e:
            LOG.info('Could not read the migration figures of %s: %s', uuid, e)
            return {}
        finally:
            conn.close()

    def abort_job(self, instance):
        """Cancel a migration job a dead agent left running (restart)."""
        guest = self.driver.host.find_guest(instance['uuid'])
        if guest is None:
            return
        try:
            guest._domain.abortJob()
        except libvirt.libvirtError as e:
            LOG.debug('No job to abort on %s: %s', instance['uuid'], e)

    def cleanup_source(self, instance):
        """The guest left: its files here go (the domain is undefined)."""
        self.driver.destroy(None, instance, cleanup=True)
