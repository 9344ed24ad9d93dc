#!/usr/bin/env bash
# migrate.sh: applies deploy/sql/NNNN_name.sql in order to CREANCE_DB_URL.
#
# Each file runs in its own transaction together with its row in
# schema_migrations (version, name, checksum = sha256 of the file), so a
# migration is either applied and recorded or not at all. Applied files are
# skipped; an applied file whose checksum changed stops everything: schema
# changes go into a new file, never into an applied one.
#
# Environment: CREANCE_DB_URL (default postgresql://creance@127.0.0.1:55432/creance),
# CREANCE_SQL_DIR (default deploy/sql of this checkout).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
db=${CREANCE_DB_URL:-postgresql://creance@127.0.0.1:55432/creance}
sql_dir=${CREANCE_SQL_DIR:-$root/deploy/sql}
quiet=${CREANCE_MIGRATE_QUIET:-}

case ${1:-} in
    "") ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "migrate.sh: unexpected argument '$1' (the database comes from CREANCE_DB_URL)" >&2; exit 2 ;;
esac

# The URL without its password, for messages.
shown_db=$(sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$db")
die() { echo "migrate.sh: $*" >&2; exit 1; }

command -v psql >/dev/null 2>&1 || die "psql not found (Debian package postgresql-client; run scripts/deps.sh install)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils)"
[[ -d $sql_dir ]] || die "no migration directory $sql_dir"

export PGCLIENTENCODING=UTF8 PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
psql_() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# Migration files, in version order; the name must be NNNN_something.sql.
shopt -s nullglob
declare -A file_of=()
versions=()
for f in "$sql_dir"/*.sql; do
    base=${f##*/}
    [[ $base =~ ^([0-9]{4})_[A-Za-z0-9_.-]+\.sql$ ]] ||
        die "$base: a migration is named NNNN_name.sql (four digits, underscore, name)"
    v=$((10#${BASH_REMATCH[1]}))
    [[ -z ${file_of[$v]:-} ]] || die "$base: version $v is also used by ${file_of[$v]##*/}"
    file_of[$v]=$f
    versions+=("$v")
done
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -n)
((${#versions[@]} > 0)) || die "no NNNN_*.sql files in $sql_dir"

psql_ -c 'SELECT 1' >/dev/null 2>"${TMPDIR:-/tmp}/migrate.$$.err" || {
    err=$(cat "${TMPDIR:-/tmp}/migrate.$$.err"); rm -f "${TMPDIR:-/tmp}/migrate.$$.err"
    die "cannot connect to $shown_db: $err"
}
rm -f "${TMPDIR:-/tmp}/migrate.$$.err"

# Under the same lock as the migrations: two first runs at once would
# otherwise race on CREATE TABLE IF NOT EXISTS.
psql_ --single-transaction >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT pg_advisory_xact_lock(727365001);
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,      -- sha256 of the file, hex
    applied_at  timestamptz NOT NULL DEFAULT now()
);
SQL

declare -A applied_sum=() applied_name=()
while IFS='|' read -r v name sum; do
    [[ -n $v ]] || continue
    applied_sum[$v]=$sum
    applied_name[$v]=$name
done < <(psql_ -At -F '|' -c 'SELECT version, name, checksum FROM schema_migrations ORDER BY version')

# Refuse before applying anything if history was rewritten.
for v in "${versions[@]}"; do
    f=${file_of[$v]}
    [[ -n ${applied_sum[$v]:-} ]] || continue
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    if [[ $sum != "${applied_sum[$v]}" ]]; then
        die "${f#"$root"/} changed after it was applied to $shown_db (recorded sha256 ${applied_sum[$v]}, file $sum): put schema changes in a new migration file"
    fi
    [[ ${applied_name[$v]} == "${f##*/}" ]] ||
        echo "migrate.sh: note: version $v was applied as ${applied_name[$v]}, the file is now ${f##*/} (same content)" >&2
done
for v in "${!applied_sum[@]}"; do
    [[ -n ${file_of[$v]:-} ]] ||
        echo "migrate.sh: note: version $v (${applied_name[$v]}) is applied but has no file here" >&2
done

count=0
for v in "${versions[@]}"; do
    [[ -z ${applied_sum[$v]:-} ]] || continue
    f=${file_of[$v]}
    base=${f##*/}
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    # The advisory lock serialises concurrent migrate.sh runs; the \if
    # re-checks under the lock, so the loser of a race skips the file.
    # \i keeps psql's error messages pointing at the file's own lines.
    if ! out=$(printf '%s\n' \
            'SET client_min_messages = warning;' \
            'SELECT pg_advisory_xact_lock(727365001);' \
            "SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $v) AS todo \\gset" \
            '\if :todo' \
            '\i :file' \
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($v, :'name', :'sum');" \
            '\echo migrate.sh:applied' \
            '\endif' |
            psql_ --single-transaction -v file="$f" -v name="$base" -v sum="$sum" -f -); then
        die "$base failed; nothing of it was applied (see the error above)"
    fi
    if [[ $out != *migrate.sh:applied* ]]; then
        [[ -n $quiet ]] || echo "migrate.sh: $base was applied meanwhile by another migrate.sh"
        continue
    fi
    [[ -n $quiet ]] || echo "migrate.sh: applied $base"
    count=$((count + 1))
done
[[ -n $quiet ]] || {
    if ((count == 0)); then
        echo "migrate.sh: $shown_db is up to date (${#versions[@]} migrations)"
    else
        echo "migrate.sh: applied $count migration(s) to $shown_db"
    fi
}
