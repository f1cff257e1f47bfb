"""[scheduler] options: filters, weighers, allocation ratios, retries."""

from oslo_config import cfg

group = cfg.OptGroup('scheduler', title='Scheduler options')

opts = [
    cfg.ListOpt('enabled_filters',
                default=['ComputeFilter', 'AvailabilityZoneFilter', 'RamFilter',
                         'CoreFilter', 'DiskFilter', 'ImagePropertiesFilter',
                         'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter'],
                help='Filters every host must pass, in this order.'),
    cfg.FloatOpt('ram_weight_multiplier', default=1.0,
                 help='Positive spreads servers over hosts by free RAM; negative packs.'),
    cfg.FloatOpt('cpu_weight_multiplier', default=1.0,
                 help='Positive spreads servers over hosts by free vCPUs; negative packs.'),
    cfg.FloatOpt('soft_affinity_weight_multiplier', default=1.0,
                 help='Weight of soft-affinity server groups.'),
    cfg.FloatOpt('soft_anti_affinity_weight_multiplier', default=1.0,
                 help='Weight of soft-anti-affinity server groups.'),
    cfg.FloatOpt('cpu_allocation_ratio', default=4.0, min=0.0,
                 help='Virtual CPUs per physical CPU a host may hand out.'),
    cfg.FloatOpt('ram_allocation_ratio', default=1.0, min=0.0,
                 help='Guest RAM per host RAM a host may hand out.'),
    cfg.FloatOpt('disk_allocation_ratio', default=1.0, min=0.0,
                 help='Guest disk per host disk a host may hand out.'),
    cfg.IntOpt('max_attempts', default=3, min=1,
               help='Hosts a build may try before the server goes to ERROR.'),
    cfg.IntOpt('host_subset_size', default=1, min=1,
               help='Pick at random among this many best hosts (spreads '
                    'concurrent schedulers).'),
    cfg.IntOpt('stranded_build_timeout', default=60, min=0,
               help='Seconds a server may wait in BUILD (task scheduling) with nothing '
                    'happening to it before the conductor hands its build to a scheduler '
                    'again: a build request lost with an API or scheduler process that died '
                    '(kill -9) would otherwise leave it there for ever. 0: never.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
