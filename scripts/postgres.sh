#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, on a loopback port, owned by an unprivileged user
# (initdb refuses root).
#
#   scripts/postgres.sh start DIR   installs PostgreSQL from Debian's packages when it is missing,
#                                   creates and starts a cluster in DIR, prints its URL
#   scripts/postgres.sh restart DIR restarts it (fast shutdown: every connection is cut)
#   scripts/postgres.sh stop DIR    stops it (DIR can then be deleted)
#
# As root the cluster belongs to the `postgres` user of Debian's package, so DIR's parent folders must
# be traversable by it (a `mktemp -d` folder needs `chmod 755`).
#
# The cluster runs with fsync off: it holds test data only, and the tests check what the server
# asks of PostgreSQL (synchronous_commit), not the disk.
set -euo pipefail
command="${1:?usage: scripts/postgres.sh start|restart|stop DIR}"
dir="${2:?usage: scripts/postgres.sh start|restart|stop DIR}"

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

run_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$command" in
start)
    bin="$(find_bin)"
    if [ -z "$bin" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "PostgreSQL is not installed; run as root to install it with apt-get" >&2
            exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq postgresql >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
        bin="$(find_bin)"
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    run_as_owner "$bin/initdb" -D "$dir/data" -U switchboard --auth=trust -E UTF8 --no-sync >"$dir/initdb.log"
    run_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
        start >/dev/null
    run_as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U switchboard switchboard
    echo "postgres://switchboard@127.0.0.1:$port/switchboard"
    ;;
restart)
    bin="$(find_bin)"
    run_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -m fast -w restart >/dev/null
    ;;
stop)
    bin="$(find_bin)"
    [ -d "$dir/data" ] && run_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "unknown command: $command (start, restart or stop)" >&2
    exit 2
    ;;
esac
