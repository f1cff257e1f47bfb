# shellcheck shell=bash
# The database servers the test suite runs the cloud on besides SQLite:
# MariaDB and PostgreSQL on loopback, each with a login of the tests' own
# (altostack_test / altostack_test) that may create and drop its databases.
#
# Sourced by ./run_tests.sh after prereqs.sh. Reuses servers that already
# answer; otherwise installs the Debian packages and starts the servers by
# hand (no systemd). Idempotent and quick when all is in place.

ALTOSTACK_TESTDB_USER=${ALTOSTACK_TESTDB_USER:-altostack_test}
ALTOSTACK_TESTDB_PASSWORD=${ALTOSTACK_TESTDB_PASSWORD:-altostack_test}

_altostack_wait_port() {
    local port=$1 _
    for _ in $(seq 1 60); do
        altostack_port_open 127.0.0.1 "$port" && return 0
        sleep 0.5
    done
    return 1
}

altostack_ensure_mariadb() {
    if ! altostack_port_open 127.0.0.1 3306; then
        altostack_apt_install mariadb-server mariadb-client
        if ! altostack_port_open 127.0.0.1 3306; then
            altostack_log "starting MariaDB..."
            mkdir -p /run/mysqld
            chown mysql:mysql /run/mysqld 2>/dev/null || true
            start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        fi
        _altostack_wait_port 3306 || {
            altostack_die "MariaDB did not answer on 127.0.0.1:3306 (see /var/log/mysql/)"
            return 1
        }
    fi
    # The local superuser over the socket (root's unix_socket login) makes
    # the tests' login; a server that is not ours may refuse, and then the
    # login must exist already.
    if command -v mariadb >/dev/null 2>&1; then
        mariadb -uroot <<SQL >/dev/null 2>&1 || true
CREATE USER IF NOT EXISTS '$ALTOSTACK_TESTDB_USER'@'127.0.0.1' IDENTIFIED BY '$ALTOSTACK_TESTDB_PASSWORD';
CREATE USER IF NOT EXISTS '$ALTOSTACK_TESTDB_USER'@'localhost' IDENTIFIED BY '$ALTOSTACK_TESTDB_PASSWORD';
GRANT ALL PRIVILEGES ON \`altostack\_test\_%\`.* TO '$ALTOSTACK_TESTDB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`altostack\_test\_%\`.* TO '$ALTOSTACK_TESTDB_USER'@'localhost';
SQL
    fi
    altostack_log "MariaDB answers on 127.0.0.1:3306"
}

altostack_ensure_postgresql() {
    if ! altostack_port_open 127.0.0.1 5432; then
        altostack_apt_install postgresql
        if ! altostack_port_open 127.0.0.1 5432; then
            altostack_log "starting PostgreSQL..."
            local ver
            ver=$(ls /etc/postgresql | sort -V | tail -1)
            pg_ctlcluster --skip-systemctl-redirect "$ver" main start
        fi
        _altostack_wait_port 5432 || {
            altostack_die "PostgreSQL did not answer on 127.0.0.1:5432 (see /var/log/postgresql/)"
            return 1
        }
    fi
    if id postgres >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
        runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL || true
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ALTOSTACK_TESTDB_USER') THEN
    CREATE ROLE $ALTOSTACK_TESTDB_USER LOGIN CREATEDB PASSWORD '$ALTOSTACK_TESTDB_PASSWORD';
  END IF;
END \$\$;
SQL
    fi
    altostack_log "PostgreSQL answers on 127.0.0.1:5432"
}
