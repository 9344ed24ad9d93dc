#!/bin/bash
# creance-postgres: the PostgreSQL container's entrypoint. Creates the
# cluster in $PGDATA on first start, then runs postgres in the foreground
# (exec: it gets the stop signal). Extra arguments go to postgres
# (e.g. -c shared_buffers=256MB).
set -euo pipefail
say() { echo "creance-postgres: $*" >&2; }

: "${PGDATA:?}" "${POSTGRES_USER:=creance}" "${POSTGRES_DB:=creance}"
if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
    POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    [[ -n ${POSTGRES_PASSWORD:-} ]] ||
        { say "first start: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) for the role $POSTGRES_USER"; exit 1; }
    say "first start: creating the cluster in $PGDATA (role $POSTGRES_USER, database $POSTGRES_DB)"
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    # The password reaches initdb through a file only this user reads,
    # never the command line.
    pwfile=$(mktemp)
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    # The container network reaches it with the password; nothing else.
    cat >>"$PGDATA/pg_hba.conf" <<HBA

# creance-postgres: clients on the container network, with the password
host    all    all    0.0.0.0/0    scram-sha-256
host    all    all    ::/0         scram-sha-256
HBA
    if [[ $POSTGRES_DB != postgres ]]; then
        # Single-user mode: no server to start and stop, no socket needed.
        echo "CREATE DATABASE \"${POSTGRES_DB//\"/\"\"}\" OWNER \"${POSTGRES_USER//\"/\"\"}\"" |
            postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    say "cluster ready"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c port=5432 \
    -c unix_socket_directories=/run/postgresql "$@"
