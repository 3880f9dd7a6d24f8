#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the collector tests and exports
# VALISE_TEST_POSTGRES_URL. Source it (`. scripts/postgres.sh`) so the
# variable reaches the tests; the server stops when that shell exits.
#
# It installs Debian's postgresql package when no server binaries are found,
# creates a cluster in a new temporary folder owned by the `postgres` user,
# listens on 127.0.0.1 only (and a socket in that folder) on a free port,
# and creates the database `valise_test`. The cluster trusts every local
# connection: it holds test data only and is deleted on exit.

valise_postgres_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    printf '%s\n' "$dir"
  fi
}

valise_postgres_as_owner() {
  # PostgreSQL refuses to run as root; run its tools as `postgres`.
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

valise_postgres_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

valise_postgres_stop() {
  if [ -n "${VALISE_POSTGRES_DIR:-}" ] && [ -d "$VALISE_POSTGRES_DIR" ]; then
    valise_postgres_as_owner "$VALISE_POSTGRES_BIN/pg_ctl" -D "$VALISE_POSTGRES_DIR/data" \
      -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$VALISE_POSTGRES_DIR"
    echo "postgres.sh: stopped the test server"
  fi
}

valise_postgres_start() {
  VALISE_POSTGRES_BIN=$(valise_postgres_bindir)
  if [ -z "$VALISE_POSTGRES_BIN" ]; then
    echo "postgres.sh: no PostgreSQL server found; installing Debian's postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null ||
      { echo "postgres.sh: error: installing postgresql failed" >&2; return 1; }
    VALISE_POSTGRES_BIN=$(valise_postgres_bindir)
    [ -n "$VALISE_POSTGRES_BIN" ] ||
      { echo "postgres.sh: error: no initdb after installing postgresql" >&2; return 1; }
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi

  VALISE_POSTGRES_DIR=$(mktemp -d /tmp/valise-postgres.XXXXXX)
  chmod 755 "$VALISE_POSTGRES_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$VALISE_POSTGRES_DIR"
  fi
  valise_postgres_as_owner "$VALISE_POSTGRES_BIN/initdb" -D "$VALISE_POSTGRES_DIR/data" \
    --auth=trust --username=postgres --encoding=UTF8 --no-sync >"$VALISE_POSTGRES_DIR/initdb.log" 2>&1 ||
    { echo "postgres.sh: error: initdb failed:" >&2; cat "$VALISE_POSTGRES_DIR/initdb.log" >&2; return 1; }

  local attempt port started=""
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    valise_postgres_port_free "$port" || continue
    if valise_postgres_as_owner "$VALISE_POSTGRES_BIN/pg_ctl" -D "$VALISE_POSTGRES_DIR/data" \
      -l "$VALISE_POSTGRES_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$VALISE_POSTGRES_DIR" \
      start >/dev/null; then
      started=yes
      break
    fi
  done
  if [ -z "$started" ]; then
    echo "postgres.sh: error: the server did not start; its log:" >&2
    cat "$VALISE_POSTGRES_DIR/server.log" >&2 || true
    return 1
  fi
  valise_postgres_as_owner "$VALISE_POSTGRES_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres valise_test ||
    { echo "postgres.sh: error: createdb failed" >&2; return 1; }

  export VALISE_POSTGRES_BIN VALISE_POSTGRES_DIR
  export VALISE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/valise_test"
  trap valise_postgres_stop EXIT
  echo "postgres.sh: PostgreSQL $("$VALISE_POSTGRES_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
  echo "VALISE_TEST_POSTGRES_URL=$VALISE_TEST_POSTGRES_URL"
}

valise_postgres_start
