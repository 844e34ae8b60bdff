#!/usr/bin/env bash
# Starts a private PostgreSQL cluster (Debian's postgresql package) for the tests: initdb into DIR as the
# `postgres` user (its binaries refuse to run as root), listening only on a unix socket in DIR. Prints
# `export HEADWATCH_TEST_DATABASE_URL=...` for the caller to eval; the tests create one database per file from it.
# Usage: eval "$(.ci/postgres.sh start DIR)"   /   .ci/postgres.sh stop DIR   (stops it by the pid in postmaster.pid)
set -euo pipefail
cmd=${1:-start}
bindir() {
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$b" ] && [ -x "$b/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  echo "$b"
}
# Runs a PostgreSQL binary as the postgres user. Some machines have /dev/null writable by root only, which
# initdb and the server trip over; then they run in a private mount namespace with a proper null device
# bound over it, leaving the machine's own /dev/null as it is.
as_pg() {
  if [ "$(id -u)" != 0 ]; then "$@"; return; fi
  if runuser -u postgres -- sh -c ': >/dev/null' 2>/dev/null; then runuser -u postgres -- "$@"; return; fi
  mknod -m 666 "$D/null" c 1 3 2>/dev/null || true
  unshare -m sh -c 'mount --bind "$0/null" /dev/null && shift && exec runuser -u postgres -- "$@"' "$D" _ "$@"
}
case "$cmd" in
  start)
    D=${2:?dir}
    B=$(bindir)
    mkdir -p "$D"
    [ "$(id -u)" = 0 ] && chown postgres: "$D"
    as_pg "$B/initdb" -D "$D/data" -U postgres --auth=trust --locale=C.UTF-8 --encoding=UTF8 >"$D/initdb.log" 2>&1 \
      || { tail -20 "$D/initdb.log" >&2; exit 1; }
    # Socket only (listen_addresses empty): nothing but this machine's processes can reach it.
    as_pg "$B/pg_ctl" -D "$D/data" -l "$D/postgres.log" -w -t 30 \
      -o "-k $D -c listen_addresses='' -c fsync=off -c max_connections=100" start >/dev/null \
      || { tail -20 "$D/postgres.log" >&2; exit 1; }
    echo "export HEADWATCH_TEST_DATABASE_URL='postgres://postgres@localhost/postgres?host=$D'"
    echo "export HEADWATCH_POSTGRES_DIR=$D"
    ;;
  stop)
    D=${2:?dir}
    pidfile="$D/data/postmaster.pid"
    if [ -f "$pidfile" ]; then
      pid=$(head -1 "$pidfile")
      kill -INT "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    ;;
  *) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
