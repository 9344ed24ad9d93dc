#!/bin/bash
# creance-migrate: the migrate image's entrypoint. Waits until PostgreSQL
# (CREANCE_DB_URL) accepts connections, at most CREANCE_MIGRATE_WAIT seconds
# (60), then runs scripts/migrate.sh. The wait matters where the engine
# starts containers in order without waiting for PostgreSQL's healthcheck
# (podman-compose 1.0.3).
set -euo pipefail
wait_s=${CREANCE_MIGRATE_WAIT:-60}
[[ $wait_s =~ ^[0-9]+$ ]] || { echo "creance-migrate: CREANCE_MIGRATE_WAIT: expected seconds, got '$wait_s'" >&2; exit 2; }
db=${CREANCE_DB_URL:-postgresql://creance@127.0.0.1:55432/creance}
deadline=$((SECONDS + wait_s))
# pg_isready says "accepting connections" without logging in: no password
# in its output, and no failed-login noise in PostgreSQL's log.
until pg_isready -q -d "$db"; do
    if ((SECONDS >= deadline)); then
        echo "creance-migrate: PostgreSQL not accepting connections after ${wait_s}s" >&2
        exit 1
    fi
    sleep 1
done
exec /opt/creance/scripts/migrate.sh "$@"
