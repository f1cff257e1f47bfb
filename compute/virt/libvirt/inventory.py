"""What a libvirt host holds of this agent (a part of LibvirtDriver): its
guests (only those whose files live under this agent's instances_path),
their metadata and power state, and where a guest's serial console and
VNC display listen."""

import os

import libvirt

from common.conf import CONF
from compute.virt import exception
from compute.virt import power_state
from compute.virt.libvirt import host as host_mod
from compute.virt.libvirt.host import libvirt_errors as _libvirt_errors


class Inventory:
    """Needs of the driver: self.host, self.instances_path."""

    # -- inventory --------------------------------------------------------
    def _is_mine(self, conf):
        """A guest is this agent's if its files live in our instances_path:
        several agents (test clouds, hosts in namespaces) may share one
        libvirtd, and none must take another's guests for orphans."""
        root = os.path.realpath(self.instances_path) + os.sep
        paths = [d['path'] for d in conf['disks'] if d['path']] + [conf['console_log'] or '']
        return any(os.path.realpath(p).startswith(root) for p in paths if p)

    def _my_guests(self):
        """[(Guest, parsed domain XML)] of this agent's guests."""
        mine = []
        for guest in self.host.list_guests():
            try:
                conf = guest.get_config()
            except libvirt.libvirtError as e:
                if host_mod.is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                    continue
                raise
            if self._is_mine(conf):
                mine.append((guest, conf))
        return mine

    @_libvirt_errors
    def list_instance_uuids(self):
        return [g.uuid for g, _conf in self._my_guests()]

    @_libvirt_errors
    def list_instances(self):
        out = []
        for guest, conf in self._my_guests():
            try:
                md = conf['metadata']
                out.append({'uuid': guest.uuid, 'name': guest.name,
                            'power_state': guest.get_power_state(),
                            'metadata': md.to_dict() if md else {}})
            except libvirt.libvirtError as e:
                if not host_mod.is_libvirt_error(e, libvirt.VIR_ERR_NO_DOMAIN):
                    raise
        return out

    @_libvirt_errors
    def get_instance_metadata(self, uuid):
        """What spawn recorded in the domain (dict), {} if nothing."""
        md = self.host.get_guest(uuid).get_metadata()
        return md.to_dict() if md else {}

    @_libvirt_errors
    def instance_exists(self, instance):
        return self.host.find_guest(instance['uuid']) is not None

    # -- observation ------------------------------------------------------
    @_libvirt_errors
    def get_info(self, instance):
        return {'state': self.host.get_guest(instance['uuid']).get_power_state()}

    @_libvirt_errors
    def get_serial_console(self, instance):
        uuid = instance['uuid']
        guest = self.host.get_guest(uuid)
        if guest.get_power_state() != power_state.RUNNING:
            raise exception.ConsoleNotAvailable(instance_id=uuid)
        serial = guest.get_config()['serial_tcp']
        if not serial:
            raise exception.ConsoleNotAvailable(instance_id=uuid)
        return {'host': serial[0]['host'], 'port': serial[0]['port']}

    @_libvirt_errors
    def get_vnc_console(self, instance):
        """{'host', 'port'} of the guest's VNC display as the noVNC proxy
        reaches it: [vnc] server_proxyclient_address and the port libvirt
        gave the display when the guest started."""
        uuid = instance['uuid']
        guest = self.host.get_guest(uuid)
        no = exception.GraphicalConsoleNotAvailable
        if guest.get_power_state() != power_state.RUNNING:
            raise no(instance_id=uuid, reason=no.NOT_RUNNING)
        ports = [g['port'] for g in guest.get_config()['graphics']
                 if g['type'] == 'vnc' and g['port']]
        if not ports:
            raise no(instance_id=uuid, reason=no.NO_DISPLAY)
        return {'host': CONF.vnc.server_proxyclient_address, 'port': ports[0]}
