"""The data plane a compute host builds: bridges (joined across hosts by
VXLAN), DHCP, security groups, router namespaces with floating IPs.
Entry point: plane.HostNetwork."""
