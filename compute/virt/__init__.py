"""The compute agent's hypervisor layer: a driver interface
(compute.virt.driver) and its implementations (libvirt, fake)."""
