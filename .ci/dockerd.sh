#!/usr/bin/env bash
# Starts a private Docker engine (flags from the team's docker-engine notes) and imports the busybox test
# image. Prints `export DOCKER_HOST=...` and `export HEADWATCH_DOCKERD_PID=...` for the caller to eval.
# HEADWATCH_DOCKERD_ARGS: more dockerd flags (the two-host test adds a TLS listener: -H tcp://… --tlsverify …).
# Usage: eval "$(.ci/dockerd.sh start [dir])"   /   .ci/dockerd.sh stop <dir>
set -euo pipefail
cmd=${1:-start}
case "$cmd" in
  start)
    D=${2:-$(mktemp -d /tmp/hwd.XXXX)}
    mkdir -p "$D"
    # vfs works everywhere; the image check asks for overlay2 where the kernel allows it (much faster builds).
    dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="${HEADWATCH_DOCKERD_STORAGE:-vfs}" \
      --data-root "$D/data" --exec-root "$D/exec" \
      -H "unix://$D/docker.sock" --pidfile "$D/docker.pid" ${HEADWATCH_DOCKERD_ARGS:-} >"$D/dockerd.log" 2>&1 &
    export DOCKER_HOST="unix://$D/docker.sock"
    # The docker CLI (from docker.io) answers only once the engine does; no curl needed on a bare machine.
    for _ in $(seq 1 150); do
      if docker version >/dev/null 2>&1; then break; fi
      sleep 0.2
    done
    docker version >/dev/null 2>&1 || { echo "dockerd did not start; see $D/dockerd.log" >&2; tail -20 "$D/dockerd.log" >&2; exit 1; }
    "$(dirname "$0")/test-image.sh"
    echo "export DOCKER_HOST=unix://$D/docker.sock"
    echo "export HEADWATCH_DOCKERD_DIR=$D"
    ;;
  stop)
    D=${2:?dir}
    if [ -f "$D/docker.pid" ]; then kill "$(cat "$D/docker.pid")" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do [ -f "$D/docker.pid" ] && kill -0 "$(cat "$D/docker.pid")" 2>/dev/null || break; sleep 0.2; done
    ;;
  *) echo "usage: $0 start [dir] | stop <dir>" >&2; exit 2 ;;
esac
