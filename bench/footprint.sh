#!/usr/bin/env bash
# Where a sidecar's memory and start-up go: sidecar pairs with the deployed JVM flags (plus Native Memory
# Tracking and each variant's flags), one variant after the other in each round, under the same load. Writes
# bench/results/footprint-latest.md. See bench/README.md ("The sidecar's footprint").
#
#   bench/footprint.sh
#   FOOTPRINT_VARIANTS='deployed=;no-jfr=-Dio.netty.jfr.enabled=false' FOOTPRINT_ROUNDS=3 bench/footprint.sh
#   FOOTPRINT_VARIANTS="before=jar:/tmp/old-proxy.jar;after="   (a variant may run another build of the proxy)
#   FOOTPRINT_VARIANTS='c2=;c1=-XX:TieredStopAtLevel=1 MALLOC_ARENA_MAX=2;t25=java:/usr/lib/jvm/temurin-25-jdk-amd64'
#                                                     (flags, environment, another JVM; as BENCH_VARIANTS in bench/README.md)
#   BENCH_SIDECAR_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64 bench/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./mvnw -q -B -ntp -pl bench -am package -DskipTests
exec java -Xmx512m -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  -Dfootprint.variants="${FOOTPRINT_VARIANTS:-deployed=}" -Dfootprint.rounds="${FOOTPRINT_ROUNDS:-2}" \
  -Dfootprint.closedSeconds="${FOOTPRINT_CLOSED_SECONDS:-15}" -Dfootprint.openSeconds="${FOOTPRINT_OPEN_SECONDS:-10}" \
  -Dfootprint.rate="${FOOTPRINT_RATE:-2000}" -Dfootprint.out="${FOOTPRINT_OUT:-bench/results/footprint-latest.md}" \
  -Dbench.sidecarJava="${BENCH_SIDECAR_JAVA:-}" -Dbench.sidecarJar="${BENCH_SIDECAR_JAR:-}" -Dbench.sidecarJvm="${BENCH_SIDECAR_JVM:-}" \
  -Dbench.classpath.file=bench/target/classpath.txt \
  io.taskmesh.bench.FootprintMain
