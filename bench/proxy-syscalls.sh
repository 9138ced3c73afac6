#!/usr/bin/env bash
# Samples every running taskmesh sidecar (started by bench/run.sh) every 2 s until stopped, one line per sidecar:
#   epoch-seconds pid config-file cpu-ticks write-syscalls read-syscalls requests-so-far
# (CPU ticks and syscall counts from /proc, requests from taskmesh_requests_total on the sidecar's admin port).
# Run it beside bench/run.sh; bench/results/throughput.md shows how the lines become per-request figures.
set -uo pipefail
while true; do
  for pid in $(pgrep -f 'io.taskmesh.sidecar.Main'); do
    config=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | sed -n 's/.*--config \([^ ]*\).*/\1/p')
    [ -n "$config" ] || continue
    admin=$(sed -n 's/^admin: {port: \([0-9]*\)}.*/\1/p' "$config")
    requests=$(curl -s "http://127.0.0.1:$admin/metrics" | awk '/^taskmesh_requests_total/ {s += $2} END {printf "%d", s}')
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)
    writes=$(awk '/^syscw/ {print $2}' "/proc/$pid/io" 2>/dev/null)
    reads=$(awk '/^syscr/ {print $2}' "/proc/$pid/io" 2>/dev/null)
    echo "$(date +%s) $pid $config $ticks $writes $reads $requests"
  done
  sleep 2
done
