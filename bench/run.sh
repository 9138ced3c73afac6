#!/usr/bin/env bash
# Side-by-side benchmark: direct, taskmesh, nginx and haproxy paths to one task service on loopback.
# Installs nginx and haproxy (Debian packages) when missing; every process it starts is stopped at the end
# (the bench JVM stops its children on exit, also on Ctrl-C). See bench/README.md.
#
#   bench/run.sh                                   3 runs, 10 s per rate (about 15 minutes)
#   BENCH_RUNS=2 BENCH_SECONDS=5 bench/run.sh
#   BENCH_PATHS=direct,taskmesh BENCH_RATES=500,2000 BENCH_WARMUP=20 bench/run.sh
#   BENCH_BASELINE_JAR=/tmp/before.jar bench/run.sh   adds a taskmesh-baseline path run from that proxy jar
#   BENCH_VARIANTS='c1=-XX:TieredStopAtLevel=1;t25=java:/usr/lib/jvm/temurin-25-jdk-amd64 MALLOC_ARENA_MAX=2' bench/run.sh
#                                                     adds taskmesh-c2, taskmesh-mtls-c2, ... : the same jar run another way
#   BENCH_OUT=/tmp/results bench/run.sh                 tables and plot elsewhere than bench/results
#   BENCH_PATHS=direct,taskmesh-mtls,taskmesh-mtls-jdk,haproxy-tls BENCH_REPORT=mtls.md bench/run.sh   TLS rows only
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx haproxy; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "installing $tool"
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null
    else
      sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq "$tool" >/dev/null
    fi
  fi
done

# The TLS rows (taskmesh-mtls, taskmesh-mtls-jdk, haproxy-tls) need a haproxy built with OpenSSL (Debian's is).
check_haproxy_tls() {
  case ",${BENCH_PATHS:-haproxy-tls}," in
    *,haproxy-tls,*)
      # read whole before matching: grep -q stops at the match and, with pipefail, haproxy's SIGPIPE fails the test
      build_options=$("$(command -v haproxy || echo /usr/sbin/haproxy)" -vv 2>/dev/null || true)
      if [[ "$build_options" != *USE_OPENSSL=1* ]]; then
        echo "haproxy has no TLS (USE_OPENSSL) here: drop haproxy-tls from BENCH_PATHS" >&2
        exit 1
      fi ;;
  esac
}
check_haproxy_tls

./mvnw -q -B -ntp -pl bench -am package -DskipTests
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  -Dbench.runs="${BENCH_RUNS:-3}" -Dbench.seconds="${BENCH_SECONDS:-10}" \
  -Dbench.warmupSeconds="${BENCH_WARMUP:-20}" -Dbench.overloadSeconds="${BENCH_OVERLOAD_SECONDS:-60}" -Dbench.paths="${BENCH_PATHS:-}" -Dbench.rates="${BENCH_RATES:-}" \
  -Dbench.sidecarJava="${BENCH_SIDECAR_JAVA:-}" -Dbench.sidecarJar="${BENCH_SIDECAR_JAR:-}" -Dbench.sidecarJvm="${BENCH_SIDECAR_JVM:-}" -Dbench.sidecarJvmExtra="${BENCH_SIDECAR_JVM_EXTRA:-}" \
  -Dbench.baselineJar="${BENCH_BASELINE_JAR:-}" -Dbench.variants="${BENCH_VARIANTS:-}" \
  -Dbench.classpath.file=bench/target/classpath.txt -Dbench.out="${BENCH_OUT:-bench/results}" \
  -Dbench.report="${BENCH_REPORT:-latest.md}" \
  io.taskmesh.bench.BenchMain
