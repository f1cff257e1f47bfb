"""The data plane a compute host builds: bridges, DHCP, security groups,
router namespaces with floating IPs. Entry point: plane.HostNetwork."""
