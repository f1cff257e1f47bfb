"""Libvirt/QEMU driver, layered: driver (orchestration) -> host (connection,
events) -> guest (one domain) -> config (pure object <-> XML). The designer
fills config objects from an instance; ports hands out serial console ports."""
