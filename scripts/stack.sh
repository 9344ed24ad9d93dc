#!/usr/bin/env bash
# stack.sh: the local Créance stack, state under ./var (or $CREANCE_VAR).
#
#   stack.sh up      PostgreSQL (var/pg) and Redis (var/redis), migrations,
#                    the five services, an operator token (var/admin-token)
#                    for `creance admin`, tenant "demo" with an API token
#                    (var/demo-token, made through the operator API) and
#                    the simulator's demo data; prints where to look
#   stack.sh down    stops the services, Redis and PostgreSQL; data stays
#   stack.sh status  which parts run
#
# Works as a normal user and as root (PostgreSQL then runs as `postgres`).
# Every address can be moved with the variables the services read:
#   CREANCE_DB_URL CREANCE_REDIS_URL CREANCE_BROKER_PUB CREANCE_BROKER_SUB
#   CREANCE_INTAKE_ENDPOINT CREANCE_INTAKE_HTTP CREANCE_RISK_ENDPOINT
#   CREANCE_RISK_HTTP CREANCE_REMINDERS_HTTP CREANCE_REPORTING_HTTP
# and the stack's own: CREANCE_VAR (./var), CREANCE_PG_PORT (55432),
# CREANCE_REDIS_PORT (56379), CREANCE_BIN_DIR ($BUILD/bin, BUILD=build),
# CREANCE_PG_BIN (newest /usr/lib/postgresql/*/bin), CREANCE_STACK_TIMEOUT
# (seconds to wait for a part to be ready, 30), CREANCE_DEMO_DATA (1; 0 skips
# loading the simulator's data), CREANCE_ADMIN_TOKEN_SHA256 (default: the
# digest of var/admin-token), CREANCE_APP_DB_URL (the services' connection,
# as the least-privilege role creance_app; default: CREANCE_DB_URL with that
# user; migrations keep CREANCE_DB_URL, the owner), CREANCE_CURVE_DIR (the
# CURVE keys, made on first up; default var/curve; set it empty for plain
# TCP, development only).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}

say() { echo "stack.sh: $*"; }
warn() { echo "stack.sh: $*" >&2; }
die() { echo "stack.sh: $*" >&2; exit 1; }

usage() { sed -n '2,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
case $cmd in
    up|down|status) ;;
    -h|--help|help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
    *) echo "stack.sh: unknown command '$cmd' (expected up, down or status)" >&2; exit 2 ;;
esac

# ------------------------------------------------------------ configuration

var=${CREANCE_VAR:-$root/var}
[[ $var == /* ]] || var=$PWD/$var
bin_dir=${CREANCE_BIN_DIR:-$root/${BUILD:-build}/bin}
[[ $bin_dir == /* ]] || bin_dir=$root/$bin_dir
pg_port=${CREANCE_PG_PORT:-55432}
redis_port=${CREANCE_REDIS_PORT:-56379}
timeout=${CREANCE_STACK_TIMEOUT:-30}
stop_timeout=${CREANCE_STOP_TIMEOUT:-10}
demo_data=${CREANCE_DEMO_DATA:-1}
demo_tenant=demo

export CREANCE_DB_URL=${CREANCE_DB_URL:-postgresql://creance@127.0.0.1:$pg_port/creance}
export CREANCE_REDIS_URL=${CREANCE_REDIS_URL:-redis://127.0.0.1:$redis_port}
export CREANCE_BROKER_PUB=${CREANCE_BROKER_PUB:-tcp://127.0.0.1:5550}
export CREANCE_BROKER_SUB=${CREANCE_BROKER_SUB:-tcp://127.0.0.1:5551}
export CREANCE_BROKER_HTTP=${CREANCE_BROKER_HTTP:-127.0.0.1:8084}
export CREANCE_INTAKE_ENDPOINT=${CREANCE_INTAKE_ENDPOINT:-tcp://127.0.0.1:5560}
export CREANCE_INTAKE_HTTP=${CREANCE_INTAKE_HTTP:-127.0.0.1:8081}
export CREANCE_RISK_ENDPOINT=${CREANCE_RISK_ENDPOINT:-tcp://127.0.0.1:5570}
export CREANCE_RISK_HTTP=${CREANCE_RISK_HTTP:-127.0.0.1:8082}
export CREANCE_REMINDERS_HTTP=${CREANCE_REMINDERS_HTTP:-127.0.0.1:8083}
export CREANCE_REPORTING_HTTP=${CREANCE_REPORTING_HTTP:-127.0.0.1:8080}
# Reminders' e-mail goes to a local SMTP sink (python3-aiosmtpd, messages in
# var/log/smtp.log) and its letters to var/letters, unless moved.
smtp_port=${CREANCE_SMTP_SINK_PORT:-2525}
export CREANCE_SMTP_URL=${CREANCE_SMTP_URL:-smtp://127.0.0.1:$smtp_port}
export CREANCE_LETTER_OUTBOX=${CREANCE_LETTER_OUTBOX:-${CREANCE_VAR:-$root/var}/letters}
export PGCLIENTENCODING=UTF8 PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
# The services connect as creance_app (deploy/sql/0060_app_role.sql): rows
# only, no DDL. The owner in CREANCE_DB_URL runs the migrations.
app_db_url=${CREANCE_APP_DB_URL:-$(sed -E 's#^(postgres(ql)?://)([^@/]*@)?#\1creance_app@#' <<<"$CREANCE_DB_URL")}
# CURVE on every ZeroMQ socket between services (common/curve.h). Unset:
# var/curve, keys made on first up; set but empty: no CURVE.
export CREANCE_CURVE_DIR=${CREANCE_CURVE_DIR-$var/curve}

for n in pg_port redis_port timeout stop_timeout; do
    [[ ${!n} =~ ^[0-9]+$ ]] || die "${n}: expected a number, got '${!n}'"
done

services=(broker intake risk reminders reporting)
declare -A http_of=(
    [broker]=$CREANCE_BROKER_HTTP [intake]=$CREANCE_INTAKE_HTTP [risk]=$CREANCE_RISK_HTTP
    [reminders]=$CREANCE_REMINDERS_HTTP [reporting]=$CREANCE_REPORTING_HTTP
)

pg_data=$var/pg
run_dir=$var/run
log_dir=$var/log
redis_dir=$var/redis
redis_pidfile=$run_dir/redis.pid
token_file=$var/demo-token
admin_token_file=$var/admin-token

is_root=0
[[ $(id -u) -eq 0 ]] && is_root=1

# Where clients reach a "host:port" a service binds ("0.0.0.0:8080" -> 127.0.0.1).
client_addr() { sed -E 's#^(\*|0\.0\.0\.0|\[::\])?:#127.0.0.1:#; s#//(\*|0\.0\.0\.0):#//127.0.0.1:#' <<<"$1"; }
shown_db=$(sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$CREANCE_DB_URL")
rel() { local p=$1; [[ $p == "$root"/* ]] && p=${p#"$root"/}; echo "$p"; }

# Alive and not a zombie: our daemons are reparented to PID 1, which may
# take its time to reap them, and a zombie still answers kill -0.
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null || true)
    [[ $state != Z && $state != X ]]
}

# ------------------------------------------------------------ PostgreSQL

pg_bin() {
    if [[ -n ${CREANCE_PG_BIN:-} ]]; then echo "$CREANCE_PG_BIN"; return; fi
    # The existing cluster's major version first, else the newest installed.
    if [[ -f $pg_data/PG_VERSION ]]; then
        local v; v=$(cat "$pg_data/PG_VERSION")
        [[ -x /usr/lib/postgresql/$v/bin/pg_ctl ]] && { echo "/usr/lib/postgresql/$v/bin"; return; }
    fi
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -n $d && -x $d/pg_ctl ]] || die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (Debian package postgresql; run scripts/deps.sh install) or set CREANCE_PG_BIN"
    echo "$d"
}

# PostgreSQL refuses to run as root: as root, run its tools as `postgres`.
as_pg() {
    if ((is_root)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_running() {
    [[ -f $pg_data/PG_VERSION ]] || return 1
    as_pg "$(pg_bin)/pg_ctl" status -D "$pg_data" >/dev/null 2>&1
}

pg_pid() { head -n 1 "$pg_data/postmaster.pid" 2>/dev/null || true; }

pg_up() {
    local bin; bin=$(pg_bin)
    if ((is_root)); then
        getent passwd postgres >/dev/null || die "running as root needs the 'postgres' user (Debian package postgresql creates it)"
        runuser -u postgres -- test -x "$var" ||
            die "the postgres user cannot reach $var (a parent directory is closed to it); set CREANCE_VAR to a directory it can reach, e.g. /tmp/creance-var"
    fi
    if [[ ! -f $pg_data/PG_VERSION ]]; then
        if [[ -d $pg_data ]] && [[ -n $(ls -A "$pg_data" 2>/dev/null) ]]; then
            die "$(rel "$pg_data") exists but holds no PostgreSQL cluster (an interrupted initdb?); remove it and run up again"
        fi
        mkdir -p "$pg_data"
        chmod 700 "$pg_data"
        ((is_root)) && chown postgres:postgres "$pg_data"
        local locale=C
        locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && locale=C.UTF-8
        say "creating the PostgreSQL cluster in $(rel "$pg_data") (user creance, trust, UTF8, locale $locale)"
        if ! as_pg "$bin/initdb" -D "$pg_data" -U creance -A trust --encoding UTF8 --locale "$locale" \
                >"$log_dir/initdb.log" 2>&1; then
            tail -n 20 "$log_dir/initdb.log" >&2
            die "initdb failed (log: $(rel "$log_dir/initdb.log"))"
        fi
    fi
    if pg_running; then
        say "PostgreSQL already running (pid $(pg_pid), port $pg_port)"
    else
        touch "$log_dir/postgres.log"
        ((is_root)) && chown postgres:postgres "$log_dir/postgres.log"
        say "starting PostgreSQL on 127.0.0.1:$pg_port"
        # Options on the command line rather than in postgresql.conf, so a
        # changed CREANCE_PG_PORT or var dir applies at the next start.
        if ! as_pg "$bin/pg_ctl" start -D "$pg_data" -l "$log_dir/postgres.log" -w -t "$timeout" \
                -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories='$run_dir'" \
                >/dev/null 9>&-; then
            tail -n 20 "$log_dir/postgres.log" >&2
            die "PostgreSQL did not start (log: $(rel "$log_dir/postgres.log"); is port $pg_port taken? set CREANCE_PG_PORT)"
        fi
        started_any=1
    fi
    # The database itself (initdb made the role creance a superuser).
    local exists
    exists=$(psql -X -At -h 127.0.0.1 -p "$pg_port" -U creance -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = 'creance'") ||
        die "cannot connect to PostgreSQL on 127.0.0.1:$pg_port as creance (log: $(rel "$log_dir/postgres.log"))"
    if [[ $exists != 1 ]]; then
        say "creating database creance"
        psql -X -q -h 127.0.0.1 -p "$pg_port" -U creance -d postgres -c 'CREATE DATABASE creance' ||
            die "could not create database creance"
    fi
}

pg_down() {
    [[ -f $pg_data/PG_VERSION ]] || { say "PostgreSQL: no cluster in $(rel "$pg_data")"; return 0; }
    if pg_running; then
        say "stopping PostgreSQL (pid $(pg_pid))"
        as_pg "$(pg_bin)/pg_ctl" stop -D "$pg_data" -m fast -w -t 60 >/dev/null ||
            warn "pg_ctl stop failed (log: $(rel "$log_dir/postgres.log"))"
    else
        say "PostgreSQL not running"
    fi
}

# ------------------------------------------------------------ Redis

redis_pid() {
    local pid
    pid=$(cat "$redis_pidfile" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa redis "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
    return 0
}

redis_up() {
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found (Debian package redis-server; run scripts/deps.sh install)"
    local pid; pid=$(redis_pid)
    if [[ -n $pid ]]; then
        say "Redis already running (pid $pid, port $redis_port)"
        return 0
    fi
    mkdir -p "$redis_dir"
    say "starting Redis on 127.0.0.1:$redis_port (append-only file in $(rel "$redis_dir"))"
    # AOF only: a restart finds the cache, and no RDB snapshots on the side.
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" \
        --appendonly yes --save '' --daemonize yes --pidfile "$redis_pidfile" \
        --logfile "$log_dir/redis.log" 9>&- ||
        die "redis-server failed to start (log: $(rel "$log_dir/redis.log"))"
    local deadline=$((SECONDS + timeout))
    until [[ $(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null) == PONG ]] && [[ -n $(redis_pid) ]]; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$log_dir/redis.log" >&2 || true
            die "Redis not answering on 127.0.0.1:$redis_port after ${timeout}s (log: $(rel "$log_dir/redis.log"); port taken? set CREANCE_REDIS_PORT)"
        fi
        sleep 0.1
    done
    started_any=1
}

redis_down() {
    local pid; pid=$(redis_pid)
    if [[ -z $pid ]]; then
        say "Redis not running"
        return 0
    fi
    say "stopping Redis (pid $pid)"
    redis-cli -h 127.0.0.1 -p "$redis_port" shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" redis || true
    rm -f "$redis_pidfile"
}

# ------------------------------------------------------------ SMTP sink

smtp_pidfile() { echo "$run_dir/smtp.pid"; }

smtp_up() {
    local pid
    pid=$(cat "$(smtp_pidfile)" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
        say "SMTP sink already running (pid $pid, port $smtp_port)"
        return 0
    fi
    /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
        { warn "python3-aiosmtpd missing: no local SMTP sink (e-mails will be retried)"; return 0; }
    # The debugging handler prints every message it accepts.
    setsid /usr/bin/python3 -m aiosmtpd -n -c aiosmtpd.handlers.Debugging -l "127.0.0.1:$smtp_port" \
        >>"$log_dir/smtp.log" 2>&1 </dev/null 9>&- &
    echo $! >"$(smtp_pidfile)"
    say "started the SMTP sink on 127.0.0.1:$smtp_port (messages in $(rel "$log_dir/smtp.log"))"
}

smtp_down() {
    local pid
    pid=$(cat "$(smtp_pidfile)" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa aiosmtpd "/proc/$pid/cmdline" 2>/dev/null; then
        say "stopping the SMTP sink (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" smtp || true
    fi
    rm -f "$(smtp_pidfile)"
}

# ------------------------------------------------------------ services

svc_pid() {
    local svc=$1 pid
    pid=$(cat "$run_dir/$svc.pid" 2>/dev/null || true)
    # The pid must still be our program: pids get reused.
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
        grep -qa "creance-$svc" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
    return 0
}

svc_start() {
    local svc=$1 exe=$bin_dir/creance-$1 pid
    pid=$(svc_pid "$svc")
    if [[ -n $pid ]]; then
        say "creance-$svc already running (pid $pid)"
        return 0
    fi
    [[ -x $exe ]] || die "$(rel "$exe") not found: build first (make build, or set BUILD / CREANCE_BIN_DIR)"
    {
        echo
        echo "---- $(date -u +%Y-%m-%dT%H:%M:%SZ) stack.sh starts creance-$svc"
    } >>"$log_dir/$svc.log"
    # setsid: its own session, so closing the terminal or ^C on `make up`
    # does not reach it. A background job of this non-interactive shell is
    # no process-group leader, so setsid execs in place and $! is the service.
    CREANCE_DB_URL=$app_db_url CREANCE_CURVE_CERT=$(curve_cert "$svc") \
        setsid "$exe" >>"$log_dir/$svc.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$run_dir/$svc.pid"
    say "started creance-$svc (pid $pid, log $(rel "$log_dir/$svc.log"))"
    started_any=1
}

svc_wait() {
    local svc=$1 pid url="" deadline=$((SECONDS + timeout)) answer=""
    pid=$(cat "$run_dir/$svc.pid" 2>/dev/null || true)
    [[ -n ${http_of[$svc]:-} ]] && url="http://$(client_addr "${http_of[$svc]}")/healthz"
    while :; do
        if [[ -z $(svc_pid "$svc") ]]; then
            warn "creance-$svc exited during start-up; the end of $(rel "$log_dir/$svc.log"):"
            tail -n 15 "$log_dir/$svc.log" >&2 || true
            die "creance-$svc is not running (log: $(rel "$log_dir/$svc.log"))"
        fi
        if [[ -z $url ]]; then
            # No HTTP (the broker): alive a moment after start is all we ask.
            sleep 0.3
            [[ -n $(svc_pid "$svc") ]] && return 0
            continue
        fi
        answer=$(curl -sS -m 2 -o /dev/null -w '%{http_code}' "$url" 2>&1 || true)
        [[ $answer == 200 ]] && return 0
        if ((SECONDS >= deadline)); then
            die "creance-$svc not ready after ${timeout}s: GET $url answered '${answer:-nothing}' (log: $(rel "$log_dir/$svc.log"))"
        fi
        sleep 0.2
    done
}

wait_gone() {
    local pid=$1 what=$2 deadline=$((SECONDS + stop_timeout))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            warn "$what (pid $pid) still running after ${stop_timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
            return 1
        fi
        sleep 0.1
    done
}

svc_stop() {
    local svc=$1 pid
    pid=$(svc_pid "$svc")
    if [[ -z $pid ]]; then
        rm -f "$run_dir/$svc.pid"
        return 0
    fi
    say "stopping creance-$svc (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" "creance-$svc" || true
    rm -f "$run_dir/$svc.pid"
}

# ------------------------------------------------------------ CURVE keys

# The servers' pair in $CREANCE_CURVE_DIR/server.key(_secret); one pair per
# client in certs/ (each service, the simulator, the CLI), its public half
# copied into authorized/. Made once; an operator adds a billing system's
# public key to authorized/ (no restart needed) and removes it to revoke.
curve_clients=(intake risk reminders reporting feedsim cli)

curve_cert() { [[ -n $CREANCE_CURVE_DIR && $1 != broker ]] && echo "$CREANCE_CURVE_DIR/certs/$1.key"; return 0; }

curve_up() {
    if [[ -z $CREANCE_CURVE_DIR ]]; then
        warn "CREANCE_CURVE_DIR is empty: the ZeroMQ sockets run WITHOUT CURVE (development only)"
        return 0
    fi
    local keys=$bin_dir/creance name
    mkdir -p "$CREANCE_CURVE_DIR/authorized" "$CREANCE_CURVE_DIR/certs"
    chmod 700 "$CREANCE_CURVE_DIR" "$CREANCE_CURVE_DIR/certs"
    for name in server "${curve_clients[@]}"; do
        local dir=$CREANCE_CURVE_DIR/certs
        [[ $name == server ]] && dir=$CREANCE_CURVE_DIR
        [[ -s $dir/$name.key && -s $dir/${name}.key_secret ]] && continue
        [[ -x $keys ]] || die "$(rel "$keys") not found: it makes the CURVE keys (make build)"
        "$keys" admin keys generate "$name" --dir "$dir" >/dev/null ||
            die "could not make the CURVE key pair $name in $(rel "$dir")"
        [[ $name == server ]] || cp "$dir/$name.key" "$CREANCE_CURVE_DIR/authorized/"
        say "new CURVE key pair $name in $(rel "$dir")"
    done
}

# ------------------------------------------------------------ demo tenant and data

# The operator token of reporting's operator API (/admin/v1/, `creance
# admin`): made once, kept in var/admin-token (0600); reporting gets only
# its SHA-256, in CREANCE_ADMIN_TOKEN_SHA256 (a value already in the
# environment wins: the operator then keeps the token elsewhere).
admin_token_up() {
    if [[ ! -s $admin_token_file ]]; then
        # 32 random bytes, hex: safe in a header.
        local token
        token=op_$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
        (umask 077 && printf '%s\n' "$token" >"$admin_token_file.tmp") &&
            mv "$admin_token_file.tmp" "$admin_token_file"
        say "new operator token in $(rel "$admin_token_file")"
    fi
    chmod 600 "$admin_token_file"
    if [[ -z ${CREANCE_ADMIN_TOKEN_SHA256:-} ]]; then
        CREANCE_ADMIN_TOKEN_SHA256=$(head -n 1 "$admin_token_file" | tr -d '\n' | sha256sum | cut -d' ' -f1)
        export CREANCE_ADMIN_TOKEN_SHA256
    fi
}

# `creance admin ...` with the stack's operator token, on reporting.
admin_cli() {
    CREANCE_ADMIN_TOKEN=$(head -n 1 "$admin_token_file") \
        CREANCE_REPORTING_HTTP=$(client_addr "$CREANCE_REPORTING_HTTP") NO_COLOR=1 \
        "$bin_dir/creance" admin "$@"
}

# Tenant "demo" and its API token, through the operator API (never by hand
# in the database): a token in var/demo-token that reporting accepts is
# kept; otherwise a new one is made (the old one revoked by name).
demo_tenant_up() {
    local reporting code token name='demo token (stack.sh)' out
    reporting=$(client_addr "$CREANCE_REPORTING_HTTP")
    if [[ -s $token_file ]]; then
        code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' \
            -H "Authorization: Bearer $(head -n 1 "$token_file")" \
            "http://$reporting/api/v1/outstanding" 2>/dev/null || true)
        [[ $code == 200 ]] && return 0
    fi
    [[ -x $bin_dir/creance ]] || die "$(rel "$bin_dir/creance") not found: build first (make build)"
    if ! out=$(admin_cli tenant create "$demo_tenant" --name 'Démo SARL' 2>&1) &&
            [[ $out != *"answered 409"* ]]; then
        [[ $out == *"answered 403"* ]] &&
            warn "reporting runs without this stack's operator token (started by an older stack.sh?): make down, then make up"
        die "could not create tenant $demo_tenant through the operator API: $out"
    fi
    admin_cli token revoke "$demo_tenant" "$name" >/dev/null 2>&1 || true
    token=$(admin_cli token create "$demo_tenant" --name "$name" 2>/dev/null) ||
        die "could not make an API token for tenant $demo_tenant through the operator API"
    (umask 077 && printf '%s\n' "$token" >"$token_file.tmp") && mv "$token_file.tmp" "$token_file"
    chmod 600 "$token_file"
    say "new API token for tenant $demo_tenant in $(rel "$token_file")"
}

demo_data_up() {
    [[ $demo_data == 1 ]] || { say "CREANCE_DEMO_DATA=$demo_data: not loading demo data"; return 0; }
    local exe=$bin_dir/creance-feedsim
    [[ -x $exe ]] || die "$(rel "$exe") not found: build first (make build)"
    say "loading demo data (replays are answered DUPLICATE by intake)"
    if ! CREANCE_CURVE_CERT=$(curve_cert feedsim) \
            "$exe" --endpoint "$(client_addr "$CREANCE_INTAKE_ENDPOINT")" --tenant "$demo_tenant" \
            --source sim --debtors 200 --months 12 --seed 42; then
        demo_failed=1
        warn "the demo data did not load cleanly (above; intake's log: $(rel "$log_dir/intake.log"))"
    fi
}

print_where() {
    local token reporting
    token=$(head -n 1 "$token_file" 2>/dev/null || echo '<token: see var/demo-token>')
    reporting=$(client_addr "$CREANCE_REPORTING_HTTP")
    cat <<EOF

  dashboard  http://$reporting/#token=$token
  API        curl -H "Authorization: Bearer $token" http://$reporting/api/v1/outstanding
  operator   CREANCE_ADMIN_TOKEN=\$(cat $(rel "$admin_token_file")) $(rel "$bin_dir")/creance admin tenant list
  logs       $(rel "$log_dir")/{broker,intake,risk,reminders,reporting,postgres,redis}.log
  database   psql $shown_db
$( [[ -n $CREANCE_CURVE_DIR ]] && echo "  CLI        CREANCE_CURVE_DIR=$(rel "$CREANCE_CURVE_DIR") CREANCE_CURVE_CERT=$(rel "$(curve_cert cli)") $(rel "$bin_dir")/creance ...")
  stop       make down   (data stays in $(rel "$var")/)
EOF
}

# ------------------------------------------------------------ commands

# fd 9 holds the lock: everything long-lived started under it gets 9>&-,
# or a daemon would keep the lock after this script ends.
lock() {
    mkdir -p "$var"
    exec 9>"$var/stack.lock"
    command -v flock >/dev/null 2>&1 || return 0
    flock -n 9 || die "another stack.sh is working on $(rel "$var"); wait for it"
}

cmd_up() {
    lock
    mkdir -p "$run_dir" "$log_dir" "$redis_dir"
    if ((is_root)); then
        # The socket directory and PostgreSQL's files belong to postgres.
        chown postgres:postgres "$run_dir" 2>/dev/null || true
    fi
    started_any=0
    demo_failed=0
    pg_up
    redis_up
    smtp_up
    CREANCE_MIGRATE_QUIET='' "$root/scripts/migrate.sh" || die "migrations failed; the stack's database is $shown_db"
    admin_token_up
    curve_up
    for svc in "${services[@]}"; do svc_start "$svc"; done
    for svc in "${services[@]}"; do svc_wait "$svc"; done
    demo_tenant_up
    demo_data_up
    echo
    if ((started_any)); then
        say "Créance is up (state in $(rel "$var"))"
    else
        say "Créance was already running (state in $(rel "$var"))"
    fi
    print_where
    ((demo_failed == 0)) || exit 1
}

cmd_down() {
    [[ -d $var ]] || { say "nothing to stop: no $(rel "$var")"; return 0; }
    lock
    local i
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do svc_stop "${services[i]}"; done
    smtp_down
    redis_down
    pg_down
    say "stopped; data stays in $(rel "$var")"
}

cmd_status() {
    local up=0 total=0 pid state svc
    total=$((total + 1))
    if pg_running; then
        printf '  %-10s running  pid %-7s 127.0.0.1:%s  data %s\n' postgres "$(pg_pid)" "$pg_port" "$(rel "$pg_data")"
        up=$((up + 1))
    else
        printf '  %-10s stopped\n' postgres
    fi
    total=$((total + 1))
    pid=$(redis_pid)
    if [[ -n $pid ]]; then
        printf '  %-10s running  pid %-7s 127.0.0.1:%s  dir %s\n' redis "$pid" "$redis_port" "$(rel "$redis_dir")"
        up=$((up + 1))
    else
        printf '  %-10s stopped\n' redis
    fi
    for svc in "${services[@]}"; do
        total=$((total + 1))
        pid=$(svc_pid "$svc")
        if [[ -z $pid ]]; then
            printf '  %-10s stopped\n' "$svc"
            continue
        fi
        up=$((up + 1))
        state=""
        if [[ -n ${http_of[$svc]:-} ]]; then
            local url code
            url="http://$(client_addr "${http_of[$svc]}")/healthz"
            code=$(curl -sS -m 2 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)
            if [[ $code == 200 ]]; then state="healthy  $url"; else state="NOT HEALTHY ($code) $url"; fi
        fi
        printf '  %-10s running  pid %-7s %s\n' "$svc" "$pid" "$state"
    done
    echo "stack.sh: $up of $total parts running (state in $(rel "$var"), logs in $(rel "$log_dir"))"
    ((up == total)) || exit 3
}

case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
esac
