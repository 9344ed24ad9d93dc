#!/bin/bash
# creance-migrate: the migrate image's entrypoint. Waits until PostgreSQL
# (CREANCE_DB_URL) accepts connections, at most CREANCE_MIGRATE_WAIT seconds
# (60), then runs scripts/migrate.sh. The wait matters where the engine
# starts containers in order without waiting for PostgreSQL's healthcheck
# (podman-compose 1.0.3).
# Then, when CREANCE_APP_DB_PASSWORD is set, gives the services' role
# creance_app (deploy/sql/0060_app_role.sql) that password: the migration
# creates the role without one (no secret in a migration file), and this
# step is the one that runs as the owner. Run at every start, so changing
# the variable and starting the stack again rotates the password.
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
/opt/creance/scripts/migrate.sh "$@"
if [[ -n ${CREANCE_APP_DB_PASSWORD:-} ]]; then
    # \getenv (psql 15): the password goes from the environment to a psql
    # variable and is sent quoted (:'pw'), never on a command line.
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
\getenv pw CREANCE_APP_DB_PASSWORD
ALTER ROLE creance_app PASSWORD :'pw';
SQL
    echo "creance-migrate: password of the role creance_app set (CREANCE_APP_DB_PASSWORD)"
else
    echo "creance-migrate: CREANCE_APP_DB_PASSWORD is empty: creance_app keeps its password (none at first: services cannot log in over the network)" >&2
fi
