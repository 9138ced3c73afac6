#!/bin/sh
# taskmesh proxy-init: installs the traffic capture of one pod in the pod's network namespace.
# Run once, as root with NET_ADMIN and NET_RAW, before any other container of the pod starts.
#
#   inbound   TCP to one of TASKMESH_INBOUND_PORTS (the app's ports)  -> TASKMESH_INBOUND_LISTENER (15006)
#   outbound  TCP the pod opens to any address                        -> TASKMESH_OUTBOUND_LISTENER (15001)
#
# Never captured: traffic of the proxy's own UID (TASKMESH_PROXY_UID, so the proxy does not loop), loopback,
# the proxy's own ports (TASKMESH_PROXY_PORTS: admin, inbound, outbound), and the ports listed in
# TASKMESH_SKIP_INBOUND_PORTS / TASKMESH_SKIP_OUTBOUND_PORTS. Port lists are separated by commas or spaces.
# Running it again replaces the rules it installed before (its chains are flushed, the jumps kept once).
set -eu

: "${TASKMESH_PROXY_UID:?the UID the proxy runs as}"
: "${TASKMESH_INBOUND_LISTENER:=15006}"
: "${TASKMESH_OUTBOUND_LISTENER:=15001}"
: "${TASKMESH_PROXY_PORTS:=15000,15001,15006}"
: "${TASKMESH_INBOUND_PORTS:=}"
: "${TASKMESH_SKIP_INBOUND_PORTS:=}"
: "${TASKMESH_SKIP_OUTBOUND_PORTS:=}"
IPTABLES="${TASKMESH_IPTABLES:-iptables}"

ports() {
  echo "$1" | tr ',' ' '
}

check_port() {
  case "$2" in
    ''|*[!0-9]*) echo "proxy-init: $1: '$2' is not a port number" >&2; exit 2 ;;
  esac
  if [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
    echo "proxy-init: $1: $2 is not a port number (1-65535)" >&2
    exit 2
  fi
}

listed() {
  for candidate in $(ports "$2"); do
    [ "$candidate" = "$1" ] && return 0
  done
  return 1
}

# No doubled dollar sign and no dollar-parenthesis around a bare variable name anywhere in this script: it runs
# as a container command, where Kubernetes reduces the first to one dollar sign and expands the second before
# the shell sees them (SidecarInjectionTest checks it).
for name in TASKMESH_INBOUND_LISTENER TASKMESH_OUTBOUND_LISTENER; do
  eval "check_port $name \"\${$name}\""
done
for name in TASKMESH_PROXY_PORTS TASKMESH_INBOUND_PORTS TASKMESH_SKIP_INBOUND_PORTS TASKMESH_SKIP_OUTBOUND_PORTS; do
  eval "list=\${$name}"
  # shellcheck disable=SC2154 # set by the eval above
  for port in $(ports "$list"); do
    check_port "$name" "$port"
  done
done
case "$TASKMESH_PROXY_UID" in
  ''|*[!0-9]*) echo "proxy-init: TASKMESH_PROXY_UID: '$TASKMESH_PROXY_UID' is not a numeric UID" >&2; exit 2 ;;
esac

nat() {
  "$IPTABLES" -w -t nat "$@"
}

# A chain of our own, emptied if it exists, so a second run replaces the first run's rules.
chain() {
  nat -N "$1" 2>/dev/null || nat -F "$1"
}

jump_once() {
  nat -C "$1" -p tcp -j "$2" 2>/dev/null || nat -A "$1" -p tcp -j "$2"
}

chain TASKMESH_INBOUND
chain TASKMESH_OUTPUT

# Inbound: only the app's ports, never the proxy's own ones (admin and probes stay reachable).
for port in $(ports "$TASKMESH_INBOUND_PORTS"); do
  if listed "$port" "$TASKMESH_SKIP_INBOUND_PORTS" || listed "$port" "$TASKMESH_PROXY_PORTS"; then
    continue
  fi
  nat -A TASKMESH_INBOUND -p tcp --dport "$port" -j REDIRECT --to-ports "$TASKMESH_INBOUND_LISTENER"
  echo "proxy-init: inbound tcp/$port -> $TASKMESH_INBOUND_LISTENER"
done

# Outbound: everything the pod's other UIDs open, except loopback and the skipped ports.
nat -A TASKMESH_OUTPUT -m owner --uid-owner "$TASKMESH_PROXY_UID" -j RETURN
nat -A TASKMESH_OUTPUT -o lo -j RETURN
nat -A TASKMESH_OUTPUT -d 127.0.0.0/8 -j RETURN
for port in $(ports "$TASKMESH_SKIP_OUTBOUND_PORTS"); do
  nat -A TASKMESH_OUTPUT -p tcp --dport "$port" -j RETURN
done
nat -A TASKMESH_OUTPUT -p tcp -j REDIRECT --to-ports "$TASKMESH_OUTBOUND_LISTENER"
echo "proxy-init: outbound tcp -> $TASKMESH_OUTBOUND_LISTENER (except uid $TASKMESH_PROXY_UID, loopback," \
  "ports: ${TASKMESH_SKIP_OUTBOUND_PORTS:-none})"

jump_once PREROUTING TASKMESH_INBOUND
jump_once OUTPUT TASKMESH_OUTPUT
