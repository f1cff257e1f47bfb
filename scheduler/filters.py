"""Host filters. Each is a tiny class: ``host_passes(host, spec)`` answers,
``why(host, spec)`` says in a few words why a host failed. The handler
keeps, per filter, how many hosts it removed and why, for the fault of a
server that fits nowhere.

``spec`` is the request spec: {'vcpus', 'memory_mb', 'disk_gb',
'availability_zone', 'image_properties', 'group': {'policy', 'hosts'},
'ignore_hosts': [...]}; a move adds 'source_host' (the server's own host)
and may name 'requested_host' (then no other host is considered).
"""

from common import exception


class BaseFilter:
    name = None

    def host_passes(self, host, spec):
        raise NotImplementedError

    def why(self, host, spec):
        return host.host


class ComputeFilter(BaseFilter):
    """The host's compute service is up and enabled."""

    def host_passes(self, host, spec):
        return host.up and not host.disabled

    def why(self, host, spec):
        if not host.up:
            return '%s is down' % host.host
        return '%s is disabled (%s)' % (host.host, host.disabled_reason or 'no reason')


class RetryFilter(BaseFilter):
    """Hosts a build already failed on are not tried again."""

    def host_passes(self, host, spec):
        return host.host not in spec.get('ignore_hosts', ())

    def why(self, host, spec):
        if host.host == spec.get('source_host'):
            return '%s is the server\'s own host' % host.host
        return '%s already failed this build' % host.host


class AvailabilityZoneFilter(BaseFilter):
    def host_passes(self, host, spec):
        zone = spec.get('availability_zone')
        return not zone or host.availability_zone == zone

    def why(self, host, spec):
        return '%s is in zone %s, not %s' % (host.host, host.availability_zone,
                                            spec.get('availability_zone'))


class RamFilter(BaseFilter):
    def host_passes(self, host, spec):
        return host.free_ram_mb >= spec['memory_mb']

    def why(self, host, spec):
        return '%s has %d MB free, needs %d' % (host.host, host.free_ram_mb, spec['memory_mb'])


class CoreFilter(BaseFilter):
    def host_passes(self, host, spec):
        return host.free_vcpus >= spec['vcpus']

    def why(self, host, spec):
        return '%s has %g vCPUs free, needs %d' % (host.host, host.free_vcpus, spec['vcpus'])


class DiskFilter(BaseFilter):
    def host_passes(self, host, spec):
        return host.free_disk_gb >= spec['disk_gb']

    def why(self, host, spec):
        return '%s has %g GB disk free, needs %d' % (host.host, host.free_disk_gb,
                                                     spec['disk_gb'])


class ImagePropertiesFilter(BaseFilter):
    """Image properties hw_architecture / img_hv_type match the host."""

    def host_passes(self, host, spec):
        props = spec.get('image_properties') or {}
        hv = props.get('img_hv_type') or props.get('hypervisor_type')
        if hv and hv.lower() not in ('qemu', 'kvm', (host.hypervisor_type or '').lower()):
            return False
        arch = props.get('hw_architecture') or props.get('architecture')
        return not arch or arch in ('x86_64', 'i686')

    def why(self, host, spec):
        return '%s does not run images with properties %s' % (
            host.host, spec.get('image_properties'))


class ServerGroupAffinityFilter(BaseFilter):
    def host_passes(self, host, spec):
        group = spec.get('group') or {}
        if group.get('policy') != 'affinity' or not group.get('hosts'):
            return True
        return host.host in group['hosts']

    def why(self, host, spec):
        return '%s is not where the affinity group runs (%s)' % (
            host.host, ', '.join(sorted(spec['group']['hosts'])))


class ServerGroupAntiAffinityFilter(BaseFilter):
    def host_passes(self, host, spec):
        group = spec.get('group') or {}
        if group.get('policy') != 'anti-affinity':
            return True
        return host.host not in group.get('hosts', ())

    def why(self, host, spec):
        return '%s already runs a member of the anti-affinity group' % host.host


REGISTRY = {cls.__name__: cls for cls in (
    ComputeFilter, RetryFilter, AvailabilityZoneFilter, RamFilter, CoreFilter, DiskFilter,
    ImagePropertiesFilter, ServerGroupAffinityFilter, ServerGroupAntiAffinityFilter)}


class NoValidHost(exception.AltostackError):
    code = 400
    msg_fmt = 'No valid host was found. %(reason)s'


def load(names):
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError('unknown scheduler filters: %s' % ', '.join(unknown))
    # The retry filter always runs first: a failed host is never retried.
    return [RegistryFilter() for RegistryFilter in
            [RetryFilter] + [REGISTRY[n] for n in names if n != 'RetryFilter']]


def run(filters, hosts, spec):
    """(hosts that pass every filter, [explanation per removing filter])."""
    explanations = []
    for f in filters:
        before = len(hosts)
        kept, removed = [], []
        for h in hosts:
            (kept if f.host_passes(h, spec) else removed).append(h)
        if removed:
            reasons = '; '.join(f.why(h, spec) for h in removed[:5])
            more = ' and %d more' % (len(removed) - 5) if len(removed) > 5 else ''
            explanations.append('%s removed %d of %d host%s: %s%s' % (
                type(f).__name__, len(removed), before, '' if before == 1 else 's',
                reasons, more))
        hosts = kept
        if not hosts:
            break
    return hosts, explanations
