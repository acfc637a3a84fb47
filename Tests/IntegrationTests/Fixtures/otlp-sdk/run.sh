#!/usr/bin/env bash
# Runs one export the way a pod would make it, in a network and mount namespace of its own:
# the Service name resolves to loopback (cluster DNS), the receiver listens on the
# endpoint's port, and the client Secret's files are mounted at the paths its
# OTEL_EXPORTER_OTLP_* values name (a Secret volume).
#
#   run.sh PYTHON SERVER_DIR APP_ENV_FILE APP_FILES_DIR HOST PORT [--require-client-cert]
#
# With OFFSET_SECONDS set, both run with the clock that many seconds ahead (libfaketime), the
# clock a test gives Vigil: certificates Vigil issued "in the future" verify as they would then.
#
# APP_ENV_FILE holds the client Secret's OTEL_* keys as NAME=VALUE lines; APP_FILES_DIR its
# ca.crt, tls.crt and tls.key. Prints the app's and the receiver's lines, then
# `app-exit=N` with the app's status; exits non-zero only when the receiver did not start.
set -euo pipefail
python=$1 server=$2 envfile=$3 files=$4 host=$5 port=$6
shift 6
here=$(cd "$(dirname "$0")" && pwd)
exec unshare --mount --net bash -s "$python" "$server" "$envfile" "$files" "$host" "$port" "$here" "$@" <<'INNER'
set -euo pipefail
python=$1 server=$2 envfile=$3 files=$4 host=$5 port=$6 here=$7
shift 7
ip link set lo up
if [ -n "${OFFSET_SECONDS:-}" ] && [ "$OFFSET_SECONDS" != 0 ]; then
  lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -1)
  [ -n "$lib" ] || { echo "libfaketime not found"; exit 3; }
  export LD_PRELOAD=$lib FAKETIME="+${OFFSET_SECONDS}s" FAKETIME_DONT_FAKE_MONOTONIC=1
fi
hosts=$(mktemp)
printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$host" > "$hosts"
mount --bind "$hosts" /etc/hosts
mkdir -p /etc/vigil/otlp
mount --bind "$files" /etc/vigil/otlp
log=$(mktemp)
"$python" "$here/receiver.py" "$server" "$port" "$@" > "$log" 2>&1 &
receiver=$!
for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.1; done
grep -q listening "$log" || { cat "$log"; echo "receiver did not start"; exit 3; }
status=0
env -i PATH="$PATH" ${LD_PRELOAD:+LD_PRELOAD=$LD_PRELOAD FAKETIME=$FAKETIME FAKETIME_DONT_FAKE_MONOTONIC=1} GRPC_DNS_RESOLVER=native OTEL_EXPORTER_OTLP_TIMEOUT=5 $(cat "$envfile") "$python" "$here/app.py" 2>&1 || status=$?
# SIGKILL: a parent may have started this with SIGTERM blocked (Foundation's Process does).
kill -KILL "$receiver" 2>/dev/null || true
wait "$receiver" 2>/dev/null || true
sed 's/^/receiver: /' "$log"
rm -f "$hosts" "$log"
echo "app-exit=$status"
INNER
