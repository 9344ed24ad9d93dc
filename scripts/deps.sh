#!/usr/bin/env bash
# deps.sh: the Debian packages Créance needs (scripts/packages.txt).
#
#   deps.sh check             report what is missing; exit 1 if anything is
#   deps.sh install           install what is missing (apt-get, as root or
#                             through passwordless sudo)
#   deps.sh check-or-install  the same as install, silent when nothing is
#                             missing (what `make` runs before every build)
#
# Nothing missing costs one dpkg-query call, so `make` can run this every time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=${CREANCE_PACKAGES_FILE:-$here/packages.txt}
mode=${1:-check-or-install}

die() { echo "deps.sh: $*" >&2; exit 1; }

case $mode in
    check|install|check-or-install) ;;
    -h|--help|help)
        sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0 ;;
    *)  echo "deps.sh: unknown mode '$mode' (expected check, install or check-or-install)" >&2
        exit 2 ;;
esac

[[ -r $list ]] || die "cannot read the package list $list"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' || true)
((${#wanted[@]} > 0)) || die "no packages listed in $list"

command -v dpkg-query >/dev/null 2>&1 ||
    die "dpkg-query not found: this script knows Debian and Ubuntu only; install the equivalents of: ${wanted[*]}"

# One call for all of them. Unknown names go to stderr ("no packages found")
# and make dpkg-query exit 1: they simply count as missing.
declare -A installed=()
while read -r name status; do
    [[ $status == installed ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for p in "${wanted[@]}"; do
    [[ -n ${installed[$p]:-} ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    [[ $mode == check-or-install ]] || echo "deps.sh: all ${#wanted[@]} Debian packages are installed"
    exit 0
fi

echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
[[ $mode == check ]] && exit 1

apt_install() {
    "$@" apt-get update -qq
    "$@" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [[ $(id -u) -eq 0 ]]; then
    echo "deps.sh: installing ${#missing[@]} package(s) with apt-get" >&2
    apt_install || die "apt-get failed (above); the missing packages are: ${missing[*]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "deps.sh: installing ${#missing[@]} package(s) with sudo apt-get" >&2
    apt_install sudo -n || die "apt-get failed (above); the missing packages are: ${missing[*]}"
else
    echo "missing Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

# Check again: apt-get can succeed without installing a name it resolved
# to another package.
still=()
while read -r name status; do
    [[ $status == installed ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${missing[@]}" 2>/dev/null || true)
for p in "${missing[@]}"; do
    [[ -n ${installed[$p]:-} ]] || still+=("$p")
done
((${#still[@]} == 0)) || die "still missing after apt-get: ${still[*]}"
echo "deps.sh: installed ${missing[*]}" >&2
