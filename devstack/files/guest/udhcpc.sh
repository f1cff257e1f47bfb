#!/bin/sh
# busybox udhcpc hook for the Altostack tiny guest: put the leased address
# and the default route on the interface.
# udhcpc passes interface, ip, mask and router in the environment.
# shellcheck disable=SC2154
case "$1" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound | renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        if [ -n "$router" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        ;;
esac
exit 0
