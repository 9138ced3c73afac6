#!/usr/bin/env bash
# The gateway's peak RSS under the slow-body attack: one (or CONNS) h2c connection(s), 300 streams each sending
# BODY bytes of a JSON body that never ends. The gateway runs as the chart runs it (a 256 MiB budget and the
# chart's JVM flags, or JVM_FLAGS); prints idle and peak RSS, whether it survived and what its budgets counted.
#
#   ./mvnw -q -B -pl sidecar -am package -DskipTests && sidecar/slow-body-rss.sh [proxy.jar]
#   CONNS=20 BODY=65536 sidecar/slow-body-rss.sh
# Ports 18000/18001/18006/18080 on 127.0.0.1; everything it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${1:-sidecar/target/taskmesh-proxy.jar}
JVM_FLAGS=${JVM_FLAGS:-"-XX:MaxRAMPercentage=40 -XX:MaxDirectMemorySize=64m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"}
WORK=$(mktemp -d)
trap 'kill ${PROXY:-} ${ATTACK:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/gateway.yaml" <<YAML
service: gateway
inbound: {port: 18006, appPort: 1}
outbound: {port: 18001, discovery: {static: {task-service: ["127.0.0.1:1"]}}}
admin: {port: 18000}
gateway:
  port: 18080
  routes: [{pathPrefix: /api/tasks, service: task-service, transcode: true}]
YAML
./mvnw -q -B -o -pl sidecar dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
./mvnw -q -B -o -pl sidecar -am test-compile >/dev/null
# shellcheck disable=SC2086
TASKMESH_BIND_ADDRESS=127.0.0.1 java -XX:MaxRAM=256m $JVM_FLAGS -jar "$JAR" --config "$WORK/gateway.yaml" \
  --mode gateway > "$WORK/proxy.log" 2>&1 &
PROXY=$!
for _ in $(seq 1 150); do curl -sf http://127.0.0.1:18000/ready >/dev/null && break; sleep 0.2; done
sleep 2
IDLE=$(awk '/VmRSS/{print $2}' /proc/$PROXY/status)
java -cp "sidecar/target/test-classes:sidecar/target/classes:$(cat "$WORK/cp.txt")" \
  io.taskmesh.sidecar.support.SlowBodyAttack 18080 300 "${BODY:-1048000}" 5 "${CONNS:-1}" > "$WORK/attack.log" 2>&1 &
ATTACK=$!
PEAK=$IDLE
while kill -0 $ATTACK 2>/dev/null; do
  RSS=$(awk '/VmRSS/{print $2}' /proc/$PROXY/status 2>/dev/null || echo 0)
  [ "$RSS" -gt "$PEAK" ] && PEAK=$RSS
  sleep 0.1
done
echo "idle_rss_kb=$IDLE peak_rss_kb=$PEAK proxy=$(kill -0 $PROXY 2>/dev/null && echo up || echo died) $(tail -1 "$WORK/attack.log")"
grep -m1 OutOfMemoryError "$WORK/proxy.log" || true
curl -s http://127.0.0.1:18000/metrics | grep -E '^taskmesh_(listener_budget_exceeded|rate_limited|overload_refused)_total' || true
