#!/usr/bin/env bash
# compose-test.sh: the container stack for real, without a Docker engine.
#
#   1. installs podman, podman-compose, runc and mmdebstrap when missing
#      (apt-get, as root);
#   2. makes the Debian base image from Debian's packages (mmdebstrap, then
#      podman import) unless it exists already;
#   3. builds the images of docker-compose.yml (podman build, one per target);
#   4. brings the stack up with podman-compose on free host ports;
#   5. waits for keys and migrate to finish and for every healthcheck to pass;
#   6. checks every container runs as a non-root user, that only intake
#      and the dashboard are published, that no service's environment holds
#      the owner's database password, that each service sees only its own
#      CURVE secret (mode 0600), and that the services' database sessions
#      are all creance_app;
#   7. lets a billing client in (a key pair made with `creance admin keys
#      generate`, its public half given to the keys image's `allow`), checks
#      that intake's published port answers it and not a client without CURVE
#      or with an unknown key (refusals counted in intake's metrics);
#   8. creates a tenant and an API token (psql inside the postgres container),
#      sends a billing feed with creance-feedsim and that key through intake's
#      published port, and reads the outstanding amounts back from the
#      dashboard's API until they equal what PostgreSQL holds;
#   9. always brings the stack down and removes its volumes.
#
# Environment: BUILD (build: where creance-feedsim and creance are), CREANCE_BASE_IMAGE
# (localhost/debian:bookworm; made with mmdebstrap when it is that name and
# missing), CREANCE_COMPOSE_WORK (/var/tmp/creance-compose: containers.conf,
# base tarball), CREANCE_COMPOSE_TIMEOUT (seconds to wait for readiness, 180),
# CREANCE_COMPOSE_KEEP=1 (leave the stack up on failure, for a look).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
base_image=${CREANCE_BASE_IMAGE:-localhost/debian:bookworm}
work=${CREANCE_COMPOSE_WORK:-/var/tmp/creance-compose}
timeout=${CREANCE_COMPOSE_TIMEOUT:-180}
project=creance-ct$$
tenant=ct_tenant
feedsim=$build/bin/creance-feedsim
cli=$build/bin/creance
t0=$SECONDS

say() { echo "compose-test: [$((SECONDS - t0))s] $*"; }
die() { echo "compose-test: [$((SECONDS - t0))s] FAIL: $*" >&2; exit 1; }

[[ -x $feedsim ]] || die "$feedsim not found: build it first (make BUILD=... compose-test does)"
[[ -x $cli ]] || die "$cli not found: build it first (make BUILD=... compose-test does)"
[[ $timeout =~ ^[0-9]+$ ]] || die "CREANCE_COMPOSE_TIMEOUT: expected seconds, got '$timeout'"

# ------------------------------------------------------------ 1. tools
# package -> what shows it is there. dnsname: the CNI plugin that lets the
# containers find each other by service name (podman 4.3's CNI network has
# no DNS without it). Their dependencies bring conmon, the other CNI plugins,
# iptables and dnsmasq. Rootful podman needs neither uidmap nor slirp4netns
# nor fuse-overlayfs (the kernel's overlayfs serves).
declare -A probe=(
    [podman]=/usr/bin/podman [podman-compose]=/usr/bin/podman-compose
    [runc]=/usr/sbin/runc [mmdebstrap]=/usr/bin/mmdebstrap
    [golang-github-containernetworking-plugin-dnsname]=/usr/lib/cni/dnsname
)
missing=()
for p in podman podman-compose runc mmdebstrap golang-github-containernetworking-plugin-dnsname; do
    [[ -x ${probe[$p]} ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] ||
        die "missing ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    say "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
fi
[[ $(id -u) -eq 0 ]] ||
    die "run as root: rootless podman needs subordinate ids (uidmap) and slirp4netns, which this test does not set up"

# The settings that work on these machines (no systemd as PID 1, no Docker
# engine): cgroupfs, runc, and no default ulimits (podman's default nofile
# limit is above what the sandbox allows).
mkdir -p "$work"
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
export CONTAINERS_CONF=$work/containers.conf
podman info >/dev/null 2>"$work/podman-info.err" || { cat "$work/podman-info.err" >&2; die "podman does not work here (above)"; }

# ------------------------------------------------------------ 2. base image
if podman image exists "$base_image"; then
    say "base image $base_image is there"
elif [[ $base_image == localhost/debian:bookworm ]]; then
    say "making $base_image with mmdebstrap (minbase, no docs)"
    # The dpkg excludes stay in the image (/etc/dpkg/dpkg.cfg.d), so the
    # packages the Containerfiles install leave their docs out too.
    mmdebstrap --quiet --variant=minbase \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        bookworm "$work/base.tar" || die "mmdebstrap failed"
    podman import -q "$work/base.tar" "$base_image" >/dev/null || die "podman import failed"
    rm -f "$work/base.tar"
else
    die "base image $base_image not found (podman pull it, or unset CREANCE_BASE_IMAGE for a local one)"
fi

# ------------------------------------------------------------ 3. images
# The same (file, context, target, tag) as docker-compose.yml's build
# sections; podman-compose 1.0.3's own `build` goes on after a failed build
# and exits 0, so the test builds each image itself and stops at the first
# failure. --network host: apt-get inside the build uses the host's network.
images=(
    "postgres deploy/container/postgres.Containerfile deploy/container -"
    "redis    deploy/container/redis.Containerfile    deploy/container -"
    "migrate  deploy/container/Containerfile          .                migrate"
    "broker   deploy/container/Containerfile          .                broker"
    "intake   deploy/container/Containerfile          .                intake"
    "risk     deploy/container/Containerfile          .                risk"
    "reminders deploy/container/Containerfile         .                reminders"
    "reporting deploy/container/Containerfile         .                reporting"
    "keys     deploy/container/Containerfile          .                keys"
)
for line in "${images[@]}"; do
    read -r name file ctx target <<<"$line"
    say "building localhost/creance-$name"
    args=(build --network host --build-arg "BASE=$base_image" -f "$file" -t "localhost/creance-$name:latest")
    [[ $target == - ]] || args+=(--target "$target")
    podman "${args[@]}" "$ctx" >"$work/build-$name.log" 2>&1 || {
        tail -n 30 "$work/build-$name.log" >&2
        die "building $name failed (log: $work/build-$name.log)"
    }
done
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^localhost/creance-' | sed 's/^/  /'

# ------------------------------------------------------------ 4. up
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export CREANCE_BASE_IMAGE=$base_image
export CREANCE_PUBLISH_ADDR=127.0.0.1
CREANCE_PUBLISH_INTAKE=$(free_port)
CREANCE_PUBLISH_WEBHOOK=$(free_port)
CREANCE_PUBLISH_DASHBOARD=$(free_port)
export CREANCE_PUBLISH_INTAKE CREANCE_PUBLISH_WEBHOOK CREANCE_PUBLISH_DASHBOARD
CREANCE_DB_PASSWORD=ct_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
CREANCE_APP_DB_PASSWORD=ct_app_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
export CREANCE_DB_PASSWORD CREANCE_APP_DB_PASSWORD
# The compose file's own CURVE settings (keys in its volumes): a local
# stack's CREANCE_CURVE_DIR in this shell would name a host folder.
unset CREANCE_CURVE_DIR CREANCE_CURVE_CERT
compose() { podman-compose -p "$project" -f "$root/docker-compose.yml" "$@"; }
ctr() { echo "${project}_$1_1"; }
services=(postgres redis keys migrate broker intake risk reminders reporting)
# The billing client's key pair and the servers' public key, on the host.
feed_keys=$work/keys-$project

down() {
    local rc=$?
    trap - EXIT INT TERM
    if ((rc != 0)); then
        for s in "${services[@]}"; do
            echo "---- $(ctr "$s") (last lines)" >&2
            podman logs --tail 15 "$(ctr "$s")" >&2 2>&1 || true
        done
        if [[ ${CREANCE_COMPOSE_KEEP:-0} == 1 ]]; then
            echo "compose-test: CREANCE_COMPOSE_KEEP=1: stack $project left up; stop it with: CONTAINERS_CONF=$CONTAINERS_CONF podman-compose -p $project down -v" >&2
            exit "$rc"
        fi
    fi
    say "bringing $project down"
    compose down -v >"$work/down.log" 2>&1 || true
    # down -v of podman-compose 1.0.3 leaves volumes behind when a
    # container is slow to stop: remove the project's own for sure.
    podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman volume rm -f "${project}_pgdata" >/dev/null 2>&1 || true
    podman network rm -f "${project}_default" >/dev/null 2>&1 || true
    rm -rf "$feed_keys"
    if ((rc == 0)); then say "passed in $((SECONDS - t0))s"; else echo "compose-test: failed after $((SECONDS - t0))s" >&2; fi
    exit "$rc"
}
trap down EXIT
trap 'exit 130' INT TERM

say "podman-compose up (project $project; intake 127.0.0.1:$CREANCE_PUBLISH_INTAKE, dashboard 127.0.0.1:$CREANCE_PUBLISH_DASHBOARD)"
compose up -d --no-build >"$work/up.log" 2>&1 || { tail -n 30 "$work/up.log" >&2; die "podman-compose up failed (log: $work/up.log)"; }

# ------------------------------------------------------------ 5. ready
state() { podman inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>/dev/null || echo "missing -"; }
deadline=$((SECONDS + timeout))
for step in keys migrate; do
    say "waiting for $step to finish"
    while :; do
        read -r status code < <(state "$(ctr "$step")")
        if [[ $status == exited ]]; then
            [[ $code == 0 ]] || die "$step exited with $code"
            break
        fi
        ((SECONDS < deadline)) || die "$step still '$status' after ${timeout}s"
        sleep 1
    done
    podman logs "$(ctr "$step")" 2>&1 | sed "s/^/  $step: /"
done

# The engine may not run healthchecks on its own (podman schedules them
# with systemd timers, and there is no systemd here): run each container's
# own healthcheck command, as the engine would, until it passes.
for s in postgres redis broker intake risk reminders reporting; do
    while ! podman healthcheck run "$(ctr "$s")" >/dev/null 2>&1; do
        read -r status code < <(state "$(ctr "$s")")
        ((SECONDS < deadline)) || die "$s not healthy after ${timeout}s (state $status)"
        sleep 1
    done
    say "$s healthy"
done

# ------------------------------------------------------------ 6. users, ports
for s in postgres redis broker intake risk reminders reporting; do
    uid=$(podman exec "$(ctr "$s")" id -u) || die "cannot run id in $s"
    [[ $uid != 0 ]] || die "$s runs as root"
done
say "no container runs as root"
podman exec "$(ctr reminders)" sh -c 'f=$CREANCE_LETTER_OUTBOX/.ct && : >"$f" && rm "$f"' ||
    die "reminders cannot write its letter outbox volume"
published=$(podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}} {{.Ports}}' |
    awk '$2 != "" {print $1}' | sed "s/^${project}_//; s/_1\$//" | sort | tr '\n' ' ')
[[ $published == "intake reporting " ]] || die "published ports on: '$published' (expected intake and reporting only)"
say "only intake and reporting publish ports"

# The owner's password stays with postgres and migrate: a service's
# environment (what a compromised service could read) has only creance_app's.
for s in broker intake risk reminders reporting; do
    env_of=$(podman exec "$(ctr "$s")" env) || die "cannot read the environment of $s"
    [[ $env_of != *"$CREANCE_DB_PASSWORD"* ]] || die "$s has the owner's database password in its environment"
    grep -qx "CREANCE_DB_URL=postgresql://creance_app:$CREANCE_APP_DB_PASSWORD@postgres:5432/creance" <<<"$env_of" ||
        die "$s does not connect as creance_app: $(grep '^CREANCE_DB_URL=' <<<"$env_of" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')"
    grep -qx 'CREANCE_CURVE_DIR=/etc/creance/curve' <<<"$env_of" || die "$s runs without CREANCE_CURVE_DIR"
done
say "no service has the owner's password; all have CREANCE_CURVE_DIR"

# Each service reads its own secret half, 0600, and sees no other secret
# than the servers' (broker, intake and risk serve; the others only connect).
for s in intake risk reminders reporting; do
    podman exec "$(ctr "$s")" sh -c '
        test -r "${CREANCE_CURVE_CERT}_secret" || { echo "cannot read ${CREANCE_CURVE_CERT}_secret"; exit 1; }
        m=$(stat -c %a "${CREANCE_CURVE_CERT}_secret"); [ "$m" = 600 ] || { echo "secret mode $m"; exit 1; }
        for f in /etc/creance/cert/*_secret; do [ "$f" = "${CREANCE_CURVE_CERT}_secret" ] || { echo "also sees $f"; exit 1; }; done' ||
        die "$s: its CURVE secret (above)"
done
for s in reminders reporting; do
    ! podman exec "$(ctr "$s")" test -e /etc/creance/curve/server.key_secret ||
        die "$s, a client only, can see the servers' secret key"
done
say "each service reads only its own CURVE secret (0600); reminders and reporting not the servers'"

psql_pg() { podman exec -i "$(ctr postgres)" psql -X -q -At -v ON_ERROR_STOP=1 -U creance -d creance "$@"; }
# Every session the services hold is creance_app's (this psql's own, over
# the container's socket, left out). intake, risk, reminders and reporting
# each hold at least one by now: they are healthy.
sessions=$(psql_pg -F ' ' <<'SQL'
SELECT coalesce(usename, '?'), count(*) FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1 ORDER BY 1;
SQL
) || die "cannot read pg_stat_activity"
[[ $sessions =~ ^creance_app\ [0-9]+$ ]] || die "database sessions by role: '$(tr '\n' ';' <<<"$sessions")' (expected creance_app only)"
say "database sessions: $sessions (creance_app only)"

# ------------------------------------------------------------ 7. CURVE on intake's published port
mkdir -p "$feed_keys"
chmod 700 "$feed_keys"
"$cli" admin keys generate ct-feed --dir "$feed_keys" >/dev/null || die "creance admin keys generate failed"
"$cli" admin keys generate ct-stranger --dir "$feed_keys" >/dev/null || die "creance admin keys generate failed"
# What README.md tells an integrator: the public half to the keys image's
# `allow` on stdin, the servers' public key back.
compose run --rm -T --no-deps keys allow ct-feed <"$feed_keys/ct-feed.key" >"$work/allow.log" 2>&1 || true
podman exec "$(ctr intake)" test -s /etc/creance/curve/authorized/ct-feed.key ||
    { cat "$work/allow.log" >&2; die "keys allow ct-feed did not reach intake's authorized/"; }
podman exec "$(ctr intake)" cat /etc/creance/curve/server.key >"$feed_keys/server.key" ||
    die "cannot read the servers' public key"
say "billing client ct-feed allowed (keys allow); server key fetched"

# Answered or not within the wait: a refused client connects but gets
# nothing (its handshake fails). The wait only bounds the test.
zcall() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
import zmq
import zmq.auth
endpoint, server, cert, wait_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.linger = 0
if cert != "-":
    s.curve_publickey, s.curve_secretkey = zmq.auth.load_certificate(cert)
    s.curve_serverkey = zmq.auth.load_certificate(server)[0]
s.connect(endpoint)
# Not a batch: intake answers it with an error and records nothing.
s.send_multipart([b"", b"\xff\x00compose-test"])
print("answered" if s.poll(wait_ms) else "no answer")
s.close()
ctx.term()
PY
}
endpoint=tcp://127.0.0.1:$CREANCE_PUBLISH_INTAKE
metrics=http://127.0.0.1:$CREANCE_PUBLISH_WEBHOOK/metrics
refusals() {
    curl -sS -m 5 "$metrics" 2>/dev/null |
        awk -v want="$1" 'index($1, "creance_curve_refused_total{") == 1 && index($1, "socket=\"intake_feeds\"") && index($1, "reason=\"" want "\"") {n += $2} END {print n + 0}'
}
before=$(refusals key_not_allowed)
got=$(zcall "$endpoint" - - 3000) || die "the plain ZeroMQ client failed to run"
[[ $got == "no answer" ]] || die "intake's published port answered a client without CURVE"
got=$(zcall "$endpoint" "$feed_keys/server.key" "$feed_keys/ct-stranger.key_secret" 3000) || die "the stranger client failed to run"
[[ $got == "no answer" ]] || die "intake's published port answered a key not in authorized/"
got=$(zcall "$endpoint" "$feed_keys/server.key" "$feed_keys/ct-feed.key_secret" 30000) || die "the allowed client failed to run"
[[ $got == answered ]] || die "intake's published port did not answer the allowed key ct-feed"
while (($(refusals key_not_allowed) <= before)); do
    ((SECONDS < deadline + 30)) || die "intake did not count the refused key (creance_curve_refused_total at $metrics)"
    sleep 1
done
say "intake's published port: no answer without CURVE nor to an unknown key (refusal counted), answered with ct-feed's key"

# ------------------------------------------------------------ 8. feed and KPIs
token=ct_$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
psql_pg -v token="$token" -v tenant="$tenant" >/dev/null <<'SQL' || die "could not create the tenant and its token"
INSERT INTO tenants (id, name) VALUES (:'tenant', 'Compose Test SARL') ON CONFLICT (id) DO NOTHING;
INSERT INTO api_tokens (token_hash, tenant, name)
VALUES (sha256(convert_to(:'token', 'UTF8')), :'tenant', 'compose-test');
SQL
say "tenant $tenant and its API token created"

say "sending a billing feed through 127.0.0.1:$CREANCE_PUBLISH_INTAKE"
CREANCE_CURVE_DIR=$feed_keys CREANCE_CURVE_CERT=$feed_keys/ct-feed.key \
    "$feedsim" --endpoint "tcp://127.0.0.1:$CREANCE_PUBLISH_INTAKE" --tenant "$tenant" --source ct \
    --debtors 25 --months 4 --seed 7 --timeout 60 >"$work/feedsim.log" 2>&1 ||
    { tail -n 20 "$work/feedsim.log" >&2; die "creance-feedsim failed"; }
tail -n 3 "$work/feedsim.log" | sed 's/^/  feedsim: /'

api=http://127.0.0.1:$CREANCE_PUBLISH_DASHBOARD/api/v1/outstanding
code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "$api" || true)
[[ $code == 401 ]] || die "GET $api without a token answered $code (expected 401)"

# "CUR minor" lines, sorted: what PostgreSQL holds and what the API says.
expected=$(psql_pg -F ' ' -v tenant="$tenant" <<'SQL'
SELECT currency, sum(open_minor) FROM invoices WHERE tenant = :'tenant' GROUP BY currency ORDER BY currency;
SQL
) || die "cannot read invoices from PostgreSQL"
[[ -n $expected ]] || die "PostgreSQL holds no invoice for $tenant after the feed"
awk '$2 > 0 {n++} END {exit n ? 0 : 1}' <<<"$expected" || die "nothing outstanding in PostgreSQL: $expected"
say "expected outstanding (PostgreSQL): $(tr '\n' ';' <<<"$expected")"
# Reporting applies the ledger events as they come: poll until it has them.
got=""
while :; do
    body=$(curl -sS -m 5 -H "Authorization: Bearer $token" "$api" 2>/dev/null || true)
    got=$(/usr/bin/python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    sys.exit(0)
if d.get("tenant") != sys.argv[2]:
    sys.exit(0)
for t in sorted(d.get("totals", []), key=lambda t: t["currency"]):
    print(t["currency"], t["outstanding_minor"])
' "$body" "$tenant")
    [[ $got == "$expected" ]] && break
    ((SECONDS < deadline)) || die "the API says '$(tr '\n' ';' <<<"$got")', PostgreSQL '$(tr '\n' ';' <<<"$expected")' (body: $body)"
    sleep 1
done
say "the dashboard's API agrees: $(tr '\n' ';' <<<"$got")"
