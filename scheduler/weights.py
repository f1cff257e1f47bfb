"""Weighers: each gives a raw number per host; the handler normalises each
to 0..1 over the candidates, multiplies it by its config multiplier and
sums. Positive multipliers spread, negative ones pack.
"""

from common.conf import CONF


class RAMWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.ram_weight_multiplier

    @staticmethod
    def raw(host, spec):
        return host.free_ram_mb


class CPUWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.cpu_weight_multiplier

    @staticmethod
    def raw(host, spec):
        return host.free_vcpus


class SoftAffinityWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.soft_affinity_weight_multiplier

    @staticmethod
    def raw(host, spec):
        group = spec.get('group') or {}
        if group.get('policy') != 'soft-affinity':
            return 0
        return sum(1 for h in group.get('member_hosts', ()) if h == host.host)


class SoftAntiAffinityWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.soft_anti_affinity_weight_multiplier

    @staticmethod
    def raw(host, spec):
        group = spec.get('group') or {}
        if group.get('policy') != 'soft-anti-affinity':
            return 0
        return -sum(1 for h in group.get('member_hosts', ()) if h == host.host)


WEIGHERS = (RAMWeigher, CPUWeigher, SoftAffinityWeigher, SoftAntiAffinityWeigher)


def weigh(hosts, spec):
    """Hosts sorted best first."""
    totals = [0.0] * len(hosts)
    for w in WEIGHERS:
        mult = w.multiplier()
        if not mult:
            continue
        raws = [w.raw(h, spec) for h in hosts]
        lo, hi = min(raws), max(raws)
        if hi == lo:
            continue
        for i, r in enumerate(raws):
            totals[i] += mult * (r - lo) / (hi - lo)
    order = sorted(range(len(hosts)), key=lambda i: (-totals[i], hosts[i].host))
    return [hosts[i] for i in order]
