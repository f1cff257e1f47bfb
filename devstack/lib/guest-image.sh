# shellcheck shell=bash
# The Altostack tiny guest image (our CirrOS): an MBR disk with one FAT16
# partition holding syslinux, the Debian cloud kernel and a busybox
# initramfs whose /init is devstack/files/guest/init. Built without loop
# devices or mounts (mtools + the mtools-based syslinux installer).
#
#   source devstack/lib/guest-image.sh
#   altostack_build_guest_image /var/lib/altostack/guest-image
#   # -> /var/lib/altostack/guest-image/altostack-tiny.qcow2
#
# Needs: apt-get (download only; nothing is installed), dpkg-deb, cpio,
# gzip, sfdisk (fdisk), mkfs.fat (dosfstools), mtools, syslinux,
# syslinux-common, qemu-img (qemu-utils).

ALTOSTACK_GUEST_FILES=${ALTOSTACK_GUEST_FILES:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../files/guest" && pwd)}
ALTOSTACK_GUEST_IMAGE_NAME=altostack-tiny.qcow2
# Kernel modules the guest needs (the cloud kernel has them as modules);
# their dependencies come along. button + evdev: the ACPI power button as an
# input device, for busybox acpid in the init (graceful shutdown).
ALTOSTACK_GUEST_MODULES="virtio_pci virtio_blk virtio_net virtio_scsi ata_piix sr_mod isofs vfat
    nls_cp437 nls_ascii nls_utf8 nls_iso8859_1 button evdev"

_altostack_gi_log() {
    echo "[${ALTOSTACK_LOG_PREFIX:-stack}] $*"
}

# Newest cached .deb matching a glob in the current folder.
_altostack_gi_newest_deb() {
    local f
    f=$(find . -maxdepth 1 -name "$1" -printf '%f\n' | sort -V | tail -n 1)
    [ -n "$f" ] && echo "$f"
}

_altostack_gi_apt_download() {
    apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null; }
}

# The kernel package linux-image-cloud-amd64 points to now.
_altostack_gi_kernel_pkg() {
    local pkg
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends:/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        apt-get update -q >/dev/null
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends:/ {print $2; exit}')
    fi
    [ -n "$pkg" ] && echo "$pkg"
}

# Fetch (once) the kernel and busybox-static .debs into DEBDIR; prints the
# two file names.
_altostack_gi_fetch_debs() {
    local debdir=$1 kdeb bdeb
    mkdir -p "$debdir"
    cd "$debdir" || return 1
    kdeb=$(_altostack_gi_newest_deb 'linux-image-*-cloud-amd64_*.deb') || {
        local kpkg
        kpkg=$(_altostack_gi_kernel_pkg) || { echo "cannot resolve linux-image-cloud-amd64" >&2; return 1; }
        _altostack_gi_log "downloading $kpkg and busybox-static..." >&2
        _altostack_gi_apt_download "$kpkg"
        kdeb=$(_altostack_gi_newest_deb 'linux-image-*-cloud-amd64_*.deb')
    }
    bdeb=$(_altostack_gi_newest_deb 'busybox-static_*.deb') || {
        _altostack_gi_apt_download busybox-static
        bdeb=$(_altostack_gi_newest_deb 'busybox-static_*.deb')
    }
    echo "$debdir/$kdeb $debdir/$bdeb"
}

# What the image is made of, besides the .debs: a new init means a new image.
_altostack_gi_fingerprint() {
    {
        echo "$ALTOSTACK_GUEST_MODULES"
        cat "$ALTOSTACK_GUEST_FILES/init" "$ALTOSTACK_GUEST_FILES/udhcpc.sh"
        declare -f altostack_build_guest_image
    } | sha256sum | cut -d' ' -f1
}

# altostack_build_guest_image OUTDIR: build OUTDIR/altostack-tiny.qcow2
# unless it is there already, built from the same guest files (stamp
# OUTDIR/altostack-tiny.qcow2.stamp). Runs in a subshell (own cwd, traps,
# options).
altostack_build_guest_image() (
    set -euo pipefail
    out=$(mkdir -p "$1" && cd "$1" && pwd)
    image=$out/$ALTOSTACK_GUEST_IMAGE_NAME
    fp=$(_altostack_gi_fingerprint)
    if [ -s "$image" ] && [ "$(cat "$image.stamp" 2>/dev/null)" = "$fp" ]; then
        exit 0
    fi
    _altostack_gi_log "building the tiny guest image $image (about 10 s)..."
    t0=$(date +%s%N)
    read -r kdeb bdeb < <(_altostack_gi_fetch_debs "$out/debs")
    if [ ! -f "$kdeb" ] || [ ! -f "$bdeb" ]; then
        echo "kernel or busybox .deb missing in $out/debs" >&2
        exit 1
    fi

    w=$(mktemp -d "$out/.build.XXXXXX")
    trap 'rm -rf "$w"' EXIT
    mkdir "$w/kernel" "$w/busybox"
    dpkg-deb -x "$kdeb" "$w/kernel"
    dpkg-deb -x "$bdeb" "$w/busybox"
    kver=$(find "$w/kernel/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n 1)
    bb=$w/busybox/bin/busybox
    moddir=$w/kernel/lib/modules/$kver
    # busybox depmod: no kmod needed on the host.
    "$bb" depmod -b "$w/kernel" "$kver"

    # --- initramfs: busybox, our init, the module closure ---
    root=$w/initramfs
    mkdir -p "$root"/{bin,dev,proc,sys,etc,mnt,tmp,run,lib/modules/"$kver"}
    cp "$bb" "$root/bin/busybox"
    install -m 755 "$ALTOSTACK_GUEST_FILES/init" "$root/init"
    install -m 755 "$ALTOSTACK_GUEST_FILES/udhcpc.sh" "$root/etc/udhcpc.sh"
    local_files=()
    for m in $ALTOSTACK_GUEST_MODULES; do
        line=$(grep -E "(^|/)${m//_/[_-]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n 1) ||
            { echo "kernel module $m not found in $kver" >&2; exit 1; }
        # "path: dep dep ..." -> every path
        read -r -a deps <<<"${line/:/ }"
        local_files+=("${deps[@]}")
    done
    while read -r f; do
        mkdir -p "$root/lib/modules/$kver/$(dirname "$f")"
        cp "$moddir/$f" "$root/lib/modules/$kver/$f"
    done < <(printf '%s\n' "${local_files[@]}" | sort -u)
    "$bb" depmod -b "$root" "$kver"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$w/initrd.gz"
    cp "$w/kernel/boot/vmlinuz-$kver" "$w/vmlinuz"

    # --- boot disk: 1 MiB gap for the MBR, then FAT16 sized to the content ---
    need_kb=$((($(stat -c %s "$w/vmlinuz") + $(stat -c %s "$w/initrd.gz")) / 1024 + 1024))
    part_mb=$((need_kb / 1024 + 2))
    raw=$w/disk.raw
    truncate -s $(((part_mb + 1) * 1024 * 1024)) "$raw"
    printf 'label: dos\nstart=2048, type=6, bootable\n' | sfdisk -q "$raw"
    mkfs.fat -F 16 -n ALTOBOOT --offset=2048 "$raw" $((part_mb * 1024)) >/dev/null
    cat >"$w/syslinux.cfg" <<'CFG'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0,115200 quiet panic=5
CFG
    MTOOLS_SKIP_CHECK=1 mcopy -i "$raw@@1M" "$w/vmlinuz" "$w/initrd.gz" "$w/syslinux.cfg" ::/
    syslinux --offset $((2048 * 512)) --install "$raw"
    dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
    qemu-img convert -c -O qcow2 "$raw" "$w/image.qcow2"
    mv "$w/image.qcow2" "$image"
    echo "$fp" >"$image.stamp"
    t1=$(date +%s%N)
    _altostack_gi_log "guest image ready: $image ($(du -k "$image" | cut -f1) KiB, kernel $kver," \
        "$(((t1 - t0) / 1000000)) ms)"
)
