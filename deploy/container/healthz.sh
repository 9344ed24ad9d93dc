#!/bin/bash
# creance-healthz HOST:PORT: exit 0 when GET /healthz on HOST:PORT answers
# 200, 1 otherwise (the reason on stderr). The containers' healthcheck: bash's
# /dev/tcp does the HTTP, so the images need no curl.
set -u
addr=${1:?usage: creance-healthz HOST:PORT}
host=${addr%:*} port=${addr##*:}
[[ $host == 0.0.0.0 || $host == '*' || -z $host ]] && host=127.0.0.1

exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || { echo "healthz: cannot connect to $host:$port" >&2; exit 1; }
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
status=""
read -r -t 5 _ status _ <&3 || true
[[ $status == 200 ]] && exit 0
echo "healthz: $host:$port answered '${status:-nothing}': $(tail -n +1 <&3 | tail -n 1)" >&2
exit 1
