#!/bin/sh
# The systemd contract without systemd as PID 1: the unit's exposure score,
# sd_notify READY=1 / RELOADING=1 / STOPPING=1 on a NOTIFY_SOCKET we listen
# on, and `make install` into a DESTDIR.
set -u
BUILD=${BUILD:-build}
ROOT=$(pwd)
T=$(mktemp -d /tmp/complyd-sd.XXXXXX)
PID=; LIS=
fails=0
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	[ -n "$LIS" ] && kill "$LIS" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
. "$ROOT/tests/e2e/daemon-lib.inc"

# 1. systemd-analyze security --offline: exposure <= 1.5
if command -v systemd-analyze >/dev/null 2>&1; then
	score=$(systemd-analyze security --offline=yes systemd/complyd.service 2>/dev/null |
	    sed -n 's/.*Overall exposure level for complyd.service: \([0-9.]*\).*/\1/p')
	check "systemd-analyze exposure $score <= 1.5" \
	    "[ -n '$score' ] && awk 'BEGIN { exit !($score <= 1.5) }'"
else
	fail "systemd-analyze is not installed"
fi

# 2. sd_notify on a socket of ours
cat > "$T/notify.py" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], 'a') as f:
    while True:
        f.write(s.recv(4096).decode() + '\n'); f.flush()
PY
python3 "$T/notify.py" "$T/notify.sock" "$T/notify.log" &
LIS=$!
wait_for "[ -S '$T/notify.sock' ]" 5
mkdir -p "$T/conf" "$T/var"
mkdir -p "$T/meta"
cat > "$T/meta/f.yaml" <<'YAML'
facilities:
  - { id: F-1, tenant: acme, name: soc, use: office, capacity: 100, last_equipment_check: 2026-11-01, last_comprehensive_check: 2026-11-01, last_inspection_report: 2026-11-01 }
YAML
cat > "$T/conf/c.yaml" <<YAML
state_dir: ../var
rules: $ROOT/rules
metadata: ../meta
api: { listen: [ "unix:../var/api.sock" ] }
outputs: [ { type: file, path: ../var/alerts.jsonl } ]
YAML
NOTIFY_SOCKET="$T/notify.sock" "$BUILD/complyd" -f -c "$T/conf/c.yaml" 2>"$T/log" &
PID=$!
check "READY=1 is sent when the journal is replayed" \
    "wait_for \"grep -q '^READY=1' '$T/notify.log'\" 10"
kill -HUP "$PID"
check "RELOADING=1 then READY=1 on SIGHUP" \
    "wait_for \"grep -q '^RELOADING=1' '$T/notify.log' && [ \\\$(grep -c '^READY=1' '$T/notify.log') -ge 2 ]\" 10"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
check "STOPPING=1 and exit 0 on SIGTERM" \
    "[ $rc -eq 0 ] && grep -q '^STOPPING=1' '$T/notify.log'"

# With no events at all, record checks take the daemon's first load time:
# a restart raises nothing new (same alert ids).
sleep 1
"$BUILD/complyd" -f -c "$T/conf/c.yaml" 2>>"$T/log" &
PID=$!
wait_for "[ \$(grep -c '^READY=1' '$T/notify.log') -ge 3 ] || [ -S '$T/var/api.sock' ]" 10
sleep 1
code=$(curl -s -o "$T/resp" -w '%{http_code}' --unix-socket "$T/var/api.sock" \
    --data-binary '{"id":"x1","time":"2026-01-01T00:00:00Z","tenant":"acme","type":"x.y"}' \
    http://localhost/v1/events)
check "without { type: http } in inputs, POST /v1/events is a JSON 404" \
    "[ '$code' = 404 ] && grep -q 'HTTP ingestion is off' '$T/resp'"
kill -TERM "$PID"; wait "$PID"; PID=
n=$(grep -c 'fire.prevention-manager-appointed' "$T/var/alerts.jsonl")
check "a restart with an empty journal does not raise the record check again ($n)" "[ '$n' = 1 ]"

# A daemon without an API (no api.listen) reloads on SIGHUP like any other.
mkdir -p "$T/noapi"
cat > "$T/conf/noapi.yaml" <<YAML
state_dir: ../noapi
rules: $ROOT/rules
metadata: ../meta
outputs: [ { type: file, path: ../noapi/alerts.jsonl } ]
YAML
"$BUILD/complyd" -f -c "$T/conf/noapi.yaml" 2>"$T/noapi.log" &
NPID=$!
wait_for "grep -q 'journaled event' '$T/noapi.log'" 10
kill -HUP "$NPID"
sleep 1
check "a daemon without api.listen survives SIGHUP and reloads" \
    "kill -0 $NPID && [ \$(grep -c 'journaled event' '$T/noapi.log') -ge 2 ]"
kill -TERM "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null

# Out of file descriptors: the API pauses accepting instead of spinning, and
# serves again once connections close.
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/fd"
cat > "$T/conf/fd.yaml" <<YAML
state_dir: ../fd
rules: $ROOT/rules
metadata: ../meta
api: { listen: [ "127.0.0.1:$FPORT" ] }
YAML
(ulimit -n 64; exec "$BUILD/complyd" -f -c "$T/conf/fd.yaml" 2>"$T/fd.log") &
FDPID=$!
wait_for "curl -fs http://127.0.0.1:$FPORT/healthz >/dev/null" 10
python3 -c "
import socket, time
c = [socket.create_connection(('127.0.0.1', $FPORT)) for _ in range(120)]
time.sleep(3)
" 2>/dev/null
n=$(grep -c 'accept:' "$T/fd.log")
spin=$(grep -c 'Error from accept' "$T/fd.log")
check "out of descriptors, accept failures are logged once a second, not in a loop ($n, $spin)" \
    "[ $n -ge 1 ] && [ $n -le 8 ] && [ $spin -lt 100 ] && kill -0 $FDPID"
check "the API answers again once the connections are gone" \
    "wait_for 'curl -fs http://127.0.0.1:$FPORT/healthz >/dev/null' 10"
kill -TERM "$FDPID" 2>/dev/null; wait "$FDPID" 2>/dev/null

# Outputs keep their outbox by what they are: with the first output removed,
# the webhook's pending alert is still the webhook's after a restart.
mkdir -p "$T/ob"
obconf() {
	cat > "$T/conf/ob.yaml" <<YAML
state_dir: ../ob
rules: $ROOT/rules
metadata: ../meta
api: { listen: [ "unix:../ob/api.sock" ] }
inputs: [ { type: http } ]
outputs:
$1
  - { type: webhook, url: "http://127.0.0.1:9/hook" }
YAML
}
obconf '  - { type: file, path: ../ob/alerts.jsonl }'
"$BUILD/complyd" -f -c "$T/conf/ob.yaml" 2>"$T/ob.log" &
OPID=$!
wait_for "curl -fs --unix-socket '$T/ob/api.sock' http://x/readyz >/dev/null 2>&1" 10
curl -s --unix-socket "$T/ob/api.sock" --data-binary \
    '{"id":"ob1","time":"2026-04-01T10:00:00+09:00","tenant":"acme","type":"personal_data.used","dataset":"NOPE","purpose":"x","operator":"o"}' \
    http://x/v1/events >/dev/null
pending() { curl -s --unix-socket "$T/ob/api.sock" http://x/metrics | sed -n "s/^complyd_outbox_pending{output=\"$1\"} //p"; }
wait_for "[ \"\$(pending 1)\" -ge 1 ] 2>/dev/null" 10
NPEND=$(pending 1)
check "the webhook (second output) holds the undelivered alerts ($NPEND)" "[ '$NPEND' -ge 1 ] && [ \"\$(pending 0)\" = 0 ]"
kill -TERM "$OPID"; wait "$OPID" 2>/dev/null
obconf ''
"$BUILD/complyd" -f -c "$T/conf/ob.yaml" 2>>"$T/ob.log" &
OPID=$!
wait_for "[ -S '$T/ob/api.sock' ] && curl -fs --unix-socket '$T/ob/api.sock' http://x/readyz >/dev/null" 10
check "with the file output gone, the webhook (now first) still holds them" "[ \"\$(pending 0)\" = '$NPEND' ]"
kill -TERM "$OPID"; wait "$OPID" 2>/dev/null
cat > "$T/conf/ob.yaml" <<YAML
state_dir: ../ob
rules: $ROOT/rules
metadata: ../meta
api: { listen: [ "unix:../ob/api.sock" ] }
outputs: [ { type: file, path: ../ob/alerts.jsonl } ]
YAML
"$BUILD/complyd" -f -c "$T/conf/ob.yaml" 2>>"$T/ob.log" &
OPID=$!
check "with the webhook gone too, its queued alerts are named at start" \
    "wait_for \"grep -q '$NPEND undelivered alert(s) belong to outputs no longer in the config' '$T/ob.log'\" 10"
kill -TERM "$OPID"; wait "$OPID" 2>/dev/null

# 3. make install honours PREFIX and DESTDIR
make -s install DESTDIR="$T/root" PREFIX=/usr/local BUILD="$BUILD" >/dev/null 2>&1
check "make install places binaries, unit, conf and rules" \
    "[ -x '$T/root/usr/local/bin/complyd' ] && [ -x '$T/root/usr/local/bin/complyctl' ] &&
     [ -f '$T/root/usr/local/lib/systemd/system/complyd.service' ] &&
     [ -f '$T/root/usr/local/etc/complyd/complyd.yaml' ] &&
     [ -f '$T/root/usr/local/share/complyd/rules/appi.yaml' ]"

[ $fails -eq 0 ] && echo "systemd: all passed"
[ $fails -eq 0 ]
