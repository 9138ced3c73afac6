#!/bin/bash
# Writes the proxy's class-data-sharing archive (JDK 17's dynamic AppCDS archive) by running the proxy once, as it
# will run: the image's own java and jar, the sidecar's JVM flags in JAVA_TOOL_OPTIONS (as the operator injects them,
# without -XX:SharedArchiveFile) plus -XX:ArchiveClassesAtExit. It waits until /healthz answers, makes a few calls
# (admin, and one gRPC call into each listener, which fail: nothing is behind them), stops the proxy with SIGTERM
# (the JVM writes the archive as it exits) and fails unless the archive is there.
#
#   JAVA_TOOL_OPTIONS='<sidecar flags>' train-class-archive.sh ARCHIVE java [flags] -cp JAR io.taskmesh.sidecar.Main
#
# The archive only loads into the JVM build that wrote it and the same class path (each jar's path, size and mtime).
# Listeners bind 127.0.0.1:15000/15001/15006 (training.yaml): run it where nothing else does (a build container, a
# network namespace of its own). TRAINING_CONFIG and TRAINING_LOG override the config and the proxy's log file;
# TRAINING_ADMIN_PORT, TRAINING_OUTBOUND_PORT and TRAINING_INBOUND_PORT the ports such a config moved them to.
set -eu

archive=$1
shift
config=${TRAINING_CONFIG:-$(dirname "$0")/training.yaml}
log=${TRAINING_LOG:-/tmp/taskmesh-proxy-training.log}
admin=http://127.0.0.1:${TRAINING_ADMIN_PORT:-15000}

fail() {
  echo "train-class-archive: $*" >&2
  if [ -s "$log" ]; then
    echo "train-class-archive: the proxy's last lines ($log):" >&2
    tail -n 20 "$log" >&2
  fi
  exit 1
}

# polls "$@" every 0.1 s for up to $1 tenths of a second (bash reaps the proxy when it exits, so kill -0 then fails)
poll() {
  local tenths=$1
  shift
  while ((tenths-- > 0)); do
    if "$@"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

running() {
  kill -0 "$pid" 2>/dev/null
}

answers() {
  curl -fsS -o /dev/null --max-time 2 "$admin$1" 2>/dev/null
}

# one unary gRPC call (an empty message) through a listener; any answer will do
grpc_call() {
  printf '\000\000\000\000\000' | curl -sS -o /dev/null --max-time 5 --http2-prior-knowledge \
    -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
    --connect-to "$2:127.0.0.1:$1" "http://$2/grpc.health.v1.Health/Check" 2>/dev/null || true
}

ready() {
  answers /healthz || { running && return 1; fail "the proxy exited before it was ready"; }
}

stopped() {
  ! running
}

rm -f "$archive"
JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -XX:ArchiveClassesAtExit=$archive" TASKMESH_BIND_ADDRESS=127.0.0.1 \
  "$@" --config "$config" >"$log" 2>&1 &
pid=$!

poll 600 ready || { kill -KILL "$pid" 2>/dev/null || true; fail "the proxy did not answer $admin/healthz within 60 s"; }
answers /ready || true   # 503: the app is not there
answers /metrics || fail "the proxy did not answer $admin/metrics"
grpc_call "${TRAINING_OUTBOUND_PORT:-15001}" task-service:50051
grpc_call "${TRAINING_INBOUND_PORT:-15006}" training:15006

kill -TERM "$pid"
if ! poll 600 stopped; then
  kill -KILL "$pid" 2>/dev/null || true
  fail "the proxy did not exit within 60 s of SIGTERM"
fi
status=0
wait "$pid" || status=$?
# 143: the JVM's exit on SIGTERM once its shutdown hooks (the drain) have run
[ "$status" -eq 143 ] || [ "$status" -eq 0 ] || fail "the proxy exited with $status"
[ -s "$archive" ] || fail "no archive at $archive (exit $status)"
echo "train-class-archive: wrote $archive ($(wc -c <"$archive") bytes)"
