"""Weighers: each gives a raw number per host; the handler normalises each
to 0..1 over the hosts that passed the filters, multiplies it by its config
multiplier and sums. Positive multipliers spread, negative ones pack.

Each weigher answers for one host (``raw(host, spec)``, a HostState) and
for many at once (``raws(hosts, spec)``, a host_cache.HostArrays: numpy
columns over the hosts that passed); ``raws`` returns None when the
weigher has nothing to say for this request.
"""

import numpy as np

from common.conf import CONF


def _group_policy(spec):
    return (spec.get('group') or {}).get('policy')


class RAMWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.ram_weight_multiplier

    @staticmethod
    def raw(host, spec):
        return host.free_ram_mb

    @staticmethod
    def raws(hosts, spec):
        return hosts.free_ram_mb


class CPUWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.cpu_weight_multiplier

    @staticmethod
    def raw(host, spec):
        return host.free_vcpus

    @staticmethod
    def raws(hosts, spec):
        return hosts.free_vcpus


class SoftAffinityWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.soft_affinity_weight_multiplier

    @staticmethod
    def raw(host, spec):
        if _group_policy(spec) != 'soft-affinity':
            return 0
        return sum(1 for h in spec['group'].get('member_hosts', ()) if h == host.host)

    @staticmethod
    def raws(hosts, spec):
        if _group_policy(spec) != 'soft-affinity':
            return None
        return hosts.count(spec['group'].get('member_hosts', ()))


class SoftAntiAffinityWeigher:
    @staticmethod
    def multiplier():
        return CONF.scheduler.soft_anti_affinity_weight_multiplier

    @staticmethod
    def raw(host, spec):
        if _group_policy(spec) != 'soft-anti-affinity':
            return 0
        return -sum(1 for h in spec['group'].get('member_hosts', ()) if h == host.host)

    @staticmethod
    def raws(hosts, spec):
        if _group_policy(spec) != 'soft-anti-affinity':
            return None
        return -hosts.count(spec['group'].get('member_hosts', ()))


WEIGHERS = (RAMWeigher, CPUWeigher, SoftAffinityWeigher, SoftAntiAffinityWeigher)


def weigh(hosts, spec):
    """HostStates sorted best first (ties: by host name)."""
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


def weigh_arrays(hosts, spec):
    """The total weight of each of ``hosts`` (HostArrays), as a numpy array."""
    totals = np.zeros(len(hosts))
    for w in WEIGHERS:
        mult = w.multiplier()
        if not mult:
            continue
        raws = w.raws(hosts, spec)
        if raws is None or not len(raws):
            continue
        lo, hi = raws.min(), raws.max()
        if hi == lo:
            continue
        totals += mult * (raws - lo) / (hi - lo)
    return totals
