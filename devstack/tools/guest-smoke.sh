#!/usr/bin/env bash
# Boot the tiny guest image for real under libvirt/QEMU (TCG) and check its
# serial console: READY, the config-drive hostname, the user-data script.
#
#   devstack/tools/guest-smoke.sh [--nic none|dhcp|static] [--keep] [IMAGE_DIR]
#
# --nic dhcp gives the guest a QEMU user-mode NIC (its built-in DHCP);
# --nic static the same NIC plus a network_data.json with a fixed address.
# IMAGE_DIR defaults to $ALTOSTACK_STATE/guest-image (/var/lib/altostack).
# Builds the image if it is missing. Cleans up after itself unless --keep.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=devstack/lib/prereqs.sh
source "$HERE/../lib/prereqs.sh"
# shellcheck source=devstack/lib/guest-image.sh
source "$HERE/../lib/guest-image.sh"
ALTOSTACK_LOG_PREFIX=smoke

nic=none
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --nic) nic=$2; shift 2 ;;
        --keep) keep=yes; shift ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
IMAGE_DIR=${1:-${ALTOSTACK_STATE:-/var/lib/altostack}/guest-image}
TIMEOUT=${ALTOSTACK_SMOKE_TIMEOUT:-60}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

make_config_drive() {
    local iso=$1 uuid=$2 dir
    dir=$(mktemp -d)
    mkdir -p "$dir/openstack/latest"
    printf '{"uuid": "%s", "hostname": "vm1", "name": "vm1", "launch_index": 0, "availability_zone": "nova"}\n' \
        "$uuid" >"$dir/openstack/latest/meta_data.json"
    printf '#!/bin/sh\necho hello-from-userdata\n' >"$dir/openstack/latest/user_data"
    if [ "$nic" = static ]; then
        cat >"$dir/openstack/latest/network_data.json" <<'JSON'
{"links": [{"id": "tap0", "type": "ovs", "ethernet_mac_address": "52:54:00:a1:70:01", "mtu": 1500}],
 "networks": [{"id": "network0", "type": "ipv4", "link": "tap0", "ip_address": "10.0.2.50",
   "netmask": "255.255.255.0", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}],
   "network_id": "00000000-0000-0000-0000-000000000001"}],
 "services": []}
JSON
    fi
    genisoimage -quiet -o "$iso" -V config-2 -r -J -l "$dir"
    rm -rf "$dir"
}

domain_xml() {
    local name=$1 disk=$2 iso=$3 log=$4 nicxml=""
    if [ "$nic" != none ]; then
        nicxml="<interface type='user'><mac address='52:54:00:a1:70:01'/><model type='virtio'/></interface>"
    fi
    cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$disk'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$iso'/><target dev='hda' bus='ide'/><readonly/></disk>
    $nicxml
    <serial type='file'><source path='$log'/><target port='0'/></serial>
    <console type='file'><source path='$log'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

main() {
    altostack_start_libvirtd
    local t0 t1
    t0=$(now_ms)
    altostack_build_guest_image "$IMAGE_DIR"
    t1=$(now_ms)
    echo "IMAGE-BUILD-MS $((t1 - t0))"

    local work uuid name
    work=$(mktemp -d /var/tmp/altostack-smoke.XXXXXX)
    uuid=$(cat /proc/sys/kernel/random/uuid)
    name=devstack-smoke-${uuid:0:8}  # not altostack-*: compute agents own those
    if [ "$keep" = no ]; then
        # shellcheck disable=SC2064  # expand now: these locals are gone at exit
        trap "virsh -q destroy $name >/dev/null 2>&1 || true; virsh -q undefine $name >/dev/null 2>&1 || true; rm -rf $work" EXIT
    fi
    make_config_drive "$work/config.iso" "$uuid"
    qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE_DIR/$ALTOSTACK_GUEST_IMAGE_NAME" "$work/disk.qcow2" 1G
    domain_xml "$name" "$work/disk.qcow2" "$work/config.iso" "$work/console.log" >"$work/domain.xml"
    virsh -q define "$work/domain.xml" >/dev/null
    t0=$(now_ms)
    virsh -q start "$name" >/dev/null
    altostack_log "started $name (nic=$nic); waiting up to ${TIMEOUT}s for ALTOSTACK-READY"
    local deadline=$((t0 + TIMEOUT * 1000))
    until grep -q '^ALTOSTACK-READY' "$work/console.log" 2>/dev/null; do
        if [ "$(now_ms)" -gt "$deadline" ]; then
            cat "$work/console.log" >&2 || true
            altostack_die "no ALTOSTACK-READY within ${TIMEOUT}s"
            exit 1
        fi
        sleep 0.2
    done
    t1=$(now_ms)
    echo "BOOT-TO-READY-MS $((t1 - t0))"
    tr -d '\r' <"$work/console.log" | grep -E '^(ALTOSTACK-|hello-from)' || true

    local fail=0 want
    for want in '^ALTOSTACK-CONFIGDRIVE dev=.* hostname=vm1 uuid='"$uuid" \
        '^ALTOSTACK-USERDATA-BEGIN' '^hello-from-userdata' '^ALTOSTACK-USERDATA-END rc=0' \
        '^ALTOSTACK-READY hostname=vm1'; do
        if ! tr -d '\r' <"$work/console.log" | grep -qE "$want"; then
            echo "MISSING: $want" >&2
            fail=1
        fi
    done
    case "$nic" in
        dhcp) want='^ALTOSTACK-NET eth0 mac=52:54:00:a1:70:01 10\.0\.2\.15/24 gw=10\.0\.2\.2 source=dhcp' ;;
        static) want='^ALTOSTACK-NET eth0 mac=52:54:00:a1:70:01 10\.0\.2\.50/24 gw=10\.0\.2\.2 source=network_data' ;;
        *) want='^ALTOSTACK-NET no-nic' ;;
    esac
    if ! tr -d '\r' <"$work/console.log" | grep -qE "$want"; then
        echo "MISSING: $want" >&2
        fail=1
    fi
    if [ "$fail" -ne 0 ]; then
        cat "$work/console.log" >&2
        exit 1
    fi
    [ "$keep" = yes ] && altostack_log "kept: domain $name, files in $work"
    echo "SMOKE-OK nic=$nic"
}

main
