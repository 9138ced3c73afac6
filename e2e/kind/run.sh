#!/usr/bin/env bash
# End-to-end run of taskmesh on a real Kubernetes cluster made with kind, on a machine with Docker.
#
#   e2e/kind/run.sh            create the cluster, build and load images, install, test, delete the cluster
#   e2e/kind/run.sh --keep     leave the cluster running at the end (delete it with: kind delete cluster --name taskmesh-e2e)
#   e2e/kind/run.sh --dry-run  print every step and command without running any of them
#
# Needs: docker, kind, kubectl, helm, and a JDK 17+ (the Maven wrapper fetches the rest).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly CLUSTER="${TASKMESH_E2E_CLUSTER:-taskmesh-e2e}"
readonly SYSTEM_NS="taskmesh-system"
readonly APP_NS="taskmesh-e2e"
readonly TIMEOUT="${TASKMESH_E2E_TIMEOUT:-300s}"

dry_run=false
keep=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    --keep) keep=true ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

# Runs a command, or only prints it in a dry run.
run() {
  if $dry_run; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

# Runs a command and prints its output; in a dry run prints the command and answers with a stand-in.
capture() {
  if $dry_run; then
    printf '+ %s\n' "$*" >&2
    echo "dry-run"
  else
    "$@"
  fi
}

require() {
  local missing=()
  for tool in docker kind kubectl helm java; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    if $dry_run; then
      echo "note: missing on this machine (a real run needs them): ${missing[*]}"
    else
      echo "missing tools: ${missing[*]}" >&2
      exit 1
    fi
  fi
}

project_version() {
  sed -n '/<artifactId>taskmesh-parent<\/artifactId>/{n;s:.*<version>\(.*\)</version>.*:\1:p;q;}' "$ROOT/pom.xml"
}

cleanup() {
  if ! $keep; then
    step "Deleting cluster $CLUSTER"
    run kind delete cluster --name "$CLUSTER"
  fi
}

# Polls a condition (a command) until it succeeds or the bound runs out.
wait_for() {
  local what="$1"; shift
  if $dry_run; then
    printf '+ (until %s) %s\n' "$what" "$*"
    return 0
  fi
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 5
  done
  echo "timed out waiting until $what" >&2
  return 1
}

# True when the TaskService's config hash differs from $1 and status.configApplied reads N/N (N > 0).
applied_to_all() {
  local hash applied
  hash="$(kubectl get taskservice task-service --namespace "$APP_NS" -o jsonpath='{.status.configHash}')"
  applied="$(kubectl get taskservice task-service --namespace "$APP_NS" -o jsonpath='{.status.configApplied}')"
  [[ "$hash" != "$1" && "$applied" =~ ^([1-9][0-9]*)/([0-9]+)$ && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" ]]
}

main() {
  require
  local version
  version="$(project_version)"
  echo "taskmesh $version on kind cluster $CLUSTER$($dry_run && echo ' (dry run)')"

  step "Creating kind cluster $CLUSTER"
  run kind create cluster --name "$CLUSTER" --config "$ROOT/e2e/kind/cluster.yaml" --wait 120s
  trap cleanup EXIT

  step "Building images into the local Docker daemon (Jib; the proxy's and the capture's init image from their Dockerfiles)"
  run "$ROOT/mvnw" -B -ntp -f "$ROOT/pom.xml" -Pimages -DskipTests package
  # the proxy's image: the shaded jar the build just made, and a class-data archive trained by the image's own java
  run docker build -f "$ROOT/sidecar/Dockerfile" -t "taskmesh/taskmesh-proxy:$version" "$ROOT"
  run docker build -f "$ROOT/proxy-init/Dockerfile" -t "taskmesh/proxy-init:$version" "$ROOT"
  for image in operator taskmesh-proxy task-service proxy-init; do
    run kind load docker-image --name "$CLUSTER" "taskmesh/$image:$version"
  done

  step "Installing the chart"
  run helm install taskmesh "$ROOT/helm/taskmesh" --namespace "$SYSTEM_NS" --create-namespace \
    --set images.pullPolicy=Never --wait --timeout "$TIMEOUT"
  run helm test taskmesh --namespace "$SYSTEM_NS" --timeout "$TIMEOUT"

  step "Deploying Zipkin and a meshed TaskService"
  run kubectl create namespace "$APP_NS"
  run kubectl label namespace "$APP_NS" taskmesh.io/injection=enabled
  run kubectl apply --namespace "$APP_NS" -f "$ROOT/e2e/kind/zipkin.yaml"
  run kubectl rollout status --namespace "$APP_NS" deploy/zipkin --timeout "$TIMEOUT"
  run kubectl apply --namespace "$APP_NS" -f "$ROOT/examples/taskservice.yaml"
  run kubectl wait --namespace "$APP_NS" --for=condition=Ready taskservice/task-service --timeout "$TIMEOUT"
  run kubectl get taskservices --namespace "$APP_NS"

  step "Calling the task service through the mesh with the CLI (client pod gets a sidecar by injection)"
  # A plain client with no mesh configuration: it dials task-service:50051, the pod's capture sends the
  # connection to its own sidecar, which subscribes to task-service on demand and routes by authority.
  # shellcheck disable=SC2016 # the classpath is read inside the pod, not here
  run kubectl run task-cli --namespace "$APP_NS" --restart=Never \
    --image="taskmesh/task-service:$version" --image-pull-policy=Never \
    --command -- sh -c 'exec java -cp "$(cat /app/jib-classpath-file)" io.taskmesh.taskservice.cli.TaskCli \
      --target task-service:50051 create --title "hello from kind" --user-id 1'
  wait_for "the CLI pod completed" \
    kubectl get pod task-cli --namespace "$APP_NS" -o jsonpath='{.status.containerStatuses[?(@.name=="task-cli")].state.terminated.reason}'
  run kubectl logs task-cli --namespace "$APP_NS" -c task-cli

  step "Checking a metric on a server-side sidecar (through the API server's pod proxy)"
  local pod
  pod="$(capture kubectl get pods --namespace "$APP_NS" -l taskmesh.io/service=task-service -o jsonpath='{.items[0].metadata.name}')"
  wait_for "the sidecar counted the CreateTask call" bash -c \
    "kubectl get --raw '/api/v1/namespaces/$APP_NS/pods/$pod:15000/proxy/metrics' | grep -q 'taskmesh_requests_total{.*direction=\"inbound\".*method=\"CreateTask\"'"

  step "Checking that the sidecar mapped its image's class-data archive (a missing or stale one is not an error to the JVM)"
  run kubectl exec "$pod" --namespace "$APP_NS" -c taskmesh-proxy -- grep -q /app/taskmesh-proxy.jsa /proc/1/maps

  step "Checking the trace in Zipkin"
  wait_for "a task-service trace reached Zipkin" bash -c \
    "kubectl get --raw '/api/v1/namespaces/$APP_NS/services/zipkin:9411/proxy/api/v2/traces?serviceName=task-service&limit=1' | grep -q traceId"

  step "Changing spec.mesh twice: every sidecar reports the new config each time"
  local before
  for timeout in 3s 4s; do
    before="$(capture kubectl get taskservice task-service --namespace "$APP_NS" -o jsonpath='{.status.configHash}')"
    run kubectl patch taskservice task-service --namespace "$APP_NS" --type merge \
      -p "{\"spec\":{\"mesh\":{\"timeout\":\"$timeout\"}}}"
    wait_for "every sidecar runs the config with timeout $timeout" applied_to_all "$before"
  done

  step "Done: taskmesh served a call through two sidecars, counted it and traced it"
}

main
