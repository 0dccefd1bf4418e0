#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1 for the app's tests (Debian's postgresql,
# run as the postgres user) and print the URL the tests read from JOURNEYMAP_TEST_PG_URL.
# Usage: eval "$(.ci/postgres.sh start)"; ...; .ci/postgres.sh stop
set -euo pipefail
PORT="${JOURNEYMAP_PG_PORT:-54329}"
DATA="${JOURNEYMAP_PG_DATA:-/tmp/journeymap-pg}"
bindir() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  return 1
}
case "${1:-start}" in
  start)
    if ! BIN="$(bindir)"; then
      (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null
      BIN="$(bindir)"
    fi
    as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    if [ ! -f "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
      as_pg "'$BIN/initdb' -D '$DATA' -U postgres -A trust --no-sync" >/dev/null
    fi
    if ! as_pg "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
      as_pg "'$BIN/pg_ctl' -D '$DATA' -o \"-h 127.0.0.1 -p $PORT -k /tmp -F\" -l '$DATA/log' -w start" >/dev/null
    fi
    echo "export JOURNEYMAP_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    BIN="$(bindir)"
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$DATA' -m fast stop" >/dev/null || true
    else "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null || true; fi
    ;;
esac
