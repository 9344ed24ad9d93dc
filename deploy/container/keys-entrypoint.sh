#!/bin/bash
# creance-keys: the keys image's entrypoint. The container stack's CURVE
# keys (common/curve.h), in named volumes, made once and never overwritten.
#
#   creance-keys [init]        makes what is missing, fixes owners and modes
#                              (docker-compose.yml's one-shot `keys` step)
#   creance-keys allow NAME    reads a client's PUBLIC certificate (NAME.key
#                              from `creance admin keys generate NAME`) on
#                              stdin and lets it in (authorized/NAME.key)
#   creance-keys revoke NAME   removes it from authorized/
#   creance-keys server-key    prints the servers' public certificate, the
#                              server.key a client puts in its CREANCE_CURVE_DIR
#   creance-keys list          the allowed clients
#
# One volume per reader, so a service sees only the secrets it needs:
#   /keys/server      server.key, server.key_secret, authorized/
#                     (the servers: broker, intake, risk)
#   /keys/public      server.key only (the clients-only services' CURVE dir)
#   /keys/SVC         SVC.key, SVC.key_secret (that service's own pair)
#
# It runs as root: a new named volume belongs to root, and only root can
# hand it to the services' user (uid 10001, every service image's user).
# Everything ends owned by that user, folders 0700 (/keys/public 0755),
# secret halves 0600.
set -euo pipefail

uid=10001
clients=(intake risk reminders reporting)
server=/keys/server
say() { echo "creance-keys: $*" >&2; }
die() { say "$*"; exit 1; }

# The CLI's own rule for NAME: it can never climb out of the folder.
valid_name() { [[ $1 =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$ ]]; }

gen() {
    local dir=$1 name=$2
    [[ -s $dir/$name.key && -s $dir/$name.key_secret ]] && return 0
    # A half pair is left as it is: the CLI refuses to overwrite it, and
    # the step fails rather than lock out whoever holds the other half.
    creance admin keys generate "$name" --dir "$dir" >/dev/null ||
        die "could not make the key pair $name in $dir"
    say "new key pair $name"
}

# Copies $1 to $2 (mode $3) unless $2 already holds the same bytes.
put() {
    cmp -s "$1" "$2" 2>/dev/null && return 0
    install -m "$3" "$1" "$2.tmp" && mv -f "$2.tmp" "$2"
}

cmd_init() {
    local svc
    for d in "$server" /keys/public "${clients[@]/#//keys/}"; do
        [[ -d $d ]] || die "$d is not mounted (see docker-compose.yml's keys service)"
    done
    mkdir -p "$server/authorized"
    gen "$server" server
    for svc in "${clients[@]}"; do
        gen "/keys/$svc" "$svc"
        # Each service is a client of the broker (and of risk): let it in.
        put "/keys/$svc/$svc.key" "$server/authorized/$svc.key" 0644
    done
    put "$server/server.key" /keys/public/server.key 0644

    chown -R "$uid:$uid" "$server" /keys/public "${clients[@]/#//keys/}"
    chmod 0700 "$server" "$server/authorized" "${clients[@]/#//keys/}"
    chmod 0755 /keys/public
    chmod 0600 "$server"/*.key_secret /keys/*/*.key_secret
    chmod 0644 "$server"/*.key /keys/*/*.key "$server"/authorized/*.key
    say "keys ready; allowed clients: $(cd "$server/authorized" && ls | sed 's/\.key$//' | tr '\n' ' ')"
}

cmd_allow() {
    local name=${1:-} tmp
    valid_name "$name" || die "allow NAME: 1 to 64 of letters, digits, '-', '_', '.' (not starting with '.'), got '$name'"
    [[ -d $server/authorized ]] || die "no $server/authorized: run the keys step first"
    tmp=$(mktemp "$server/.allow.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    head -c 8192 >"$tmp"
    # A public certificate and nothing secret: a secret half sent here by
    # mistake is refused rather than stored where the servers read.
    if grep -q 'secret-key' "$tmp"; then
        die "stdin holds a SECRET key: send NAME.key, never NAME.key_secret (and make a new pair: that secret has been shared)"
    fi
    grep -Eq '^[[:space:]]*public-key = "[][0-9A-Za-z.:+=^!/*?&<>(){}@%$#-]{40}"[[:space:]]*$' "$tmp" ||
        die "stdin is not a public certificate (expected the NAME.key that creance admin keys generate writes)"
    chown "$uid:$uid" "$tmp"
    chmod 0644 "$tmp"
    # rename: the servers, which re-read authorized/ when it changes, never
    # see a half-written file.
    mv -f "$tmp" "$server/authorized/$name.key"
    trap - EXIT
    say "allowed $name (no restart needed)"
}

cmd_revoke() {
    local name=${1:-}
    valid_name "$name" || die "revoke NAME: not a valid name '$name'"
    [[ -e $server/authorized/$name.key ]] || die "$name is not allowed"
    rm -f "$server/authorized/$name.key"
    say "revoked $name (no restart needed)"
}

case ${1:-init} in
    init) cmd_init ;;
    allow) cmd_allow "${2:-}" ;;
    revoke) cmd_revoke "${2:-}" ;;
    server-key) cat "$server/server.key" ;;
    list) cd "$server/authorized" && ls | sed 's/\.key$//' ;;
    -h|--help|help) sed -n '2,24s/^# \{0,1\}//p' "$0" ;;
    *) die "unknown command '$1' (init, allow NAME, revoke NAME, server-key, list)" ;;
esac
