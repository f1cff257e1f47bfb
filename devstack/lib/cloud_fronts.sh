# shellcheck shell=bash
# The cloud's three HAProxy fronts on a load balancer, over every
# controller: the API and the image service spread over the copies
# (api_front.sh), the database to one writer with the others as backups
# (galera.sh). The Ansible loadbalancer role and the load balancer's
# conductor of a cloud made by `altostack-node init` (conductor/cloud.py)
# both call this, so the two paths write the same fronts.
#
#   altostack_cloud_fronts_up DIR ADDR API_PORT IMAGE_PORT DB_PORT NAME=IP...
#       DIR/api, DIR/image, DIR/galera written and (re)loaded softly; the
#       first controller named is the database's writer. Galera listens on
#       3306 on every controller.

_cloud_fronts_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/api_front.sh
source "$_cloud_fronts_lib/api_front.sh"
# shellcheck source=devstack/lib/galera.sh
source "$_cloud_fronts_lib/galera.sh"

altostack_cloud_fronts_up() {
    local dir=$1 addr=$2 api=$3 image=$4 db=$5 c api_s=() image_s=() db_s=()
    shift 5
    [ $# -gt 0 ] || { echo "[cloud_fronts] no controller given" >&2; return 1; }
    for c in "$@"; do
        api_s+=("$c:$api")
        image_s+=("$c:$image")
        db_s+=("$c:3306")
    done
    altostack_api_front_write "$dir/api" "$addr" "$api" "${api_s[@]}" &&
        ALTOSTACK_FRONT_HTTPCHK='' altostack_api_front_write "$dir/image" "$addr" "$image" \
            "${image_s[@]}" &&
        altostack_galera_front_write "$dir/galera" "$addr" "$db" "${db_s[@]}" &&
        altostack_api_front_up "$dir/api" &&
        altostack_api_front_up "$dir/image" &&
        altostack_galera_front_up "$dir/galera"
}
