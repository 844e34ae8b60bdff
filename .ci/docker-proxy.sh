#!/usr/bin/env bash
# Starts Debian's HAProxy with headwatch's Docker socket proxy rules (deploy/docker-proxy/haproxy.cfg, the same file
# docker-compose.example.yml uses) in front of a private engine, on a free loopback port. Prints
# `export DOCKER_HOST=tcp://127.0.0.1:PORT` and `export HEADWATCH_TEST_ENGINE=unix://<dir>/docker.sock` for eval:
# headwatch then reaches Docker only through the rules, while tests set up their containers on the raw engine.
# Usage: eval "$(.ci/docker-proxy.sh start <engine dir>)"   /   .ci/docker-proxy.sh stop <engine dir>
set -euo pipefail
cmd=${1:-start}
D=${2:?engine dir (the one given to .ci/dockerd.sh)}
CFG="$(cd "$(dirname "$0")/.." && pwd)/deploy/docker-proxy/haproxy.cfg"
case "$cmd" in
  start)
    command -v haproxy >/dev/null || { echo "haproxy is not installed (Debian package haproxy)" >&2; exit 1; }
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 30000))
      # Restart and exec on, any container: the test suite execs into containers of many names.
      PROXY_LISTEN="127.0.0.1:$port" DOCKER_SOCKET="$D/docker.sock" ALLOW_RESTART=1 ALLOW_EXEC=1 \
        haproxy -f "$CFG" -db >"$D/haproxy.log" 2>&1 &
      echo $! >"$D/haproxy.pid"
      for _ in $(seq 1 50); do
        if DOCKER_HOST="tcp://127.0.0.1:$port" docker ps -q >/dev/null 2>&1; then
          echo "export HEADWATCH_TEST_ENGINE=unix://$D/docker.sock"
          echo "export DOCKER_HOST=tcp://127.0.0.1:$port"
          exit 0
        fi
        kill -0 "$(cat "$D/haproxy.pid")" 2>/dev/null || break   # port taken: try another
        sleep 0.1
      done
      kill "$(cat "$D/haproxy.pid")" 2>/dev/null || true
    done
    echo "the Docker socket proxy did not start; see $D/haproxy.log" >&2
    tail -20 "$D/haproxy.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$D/haproxy.pid" ]; then kill "$(cat "$D/haproxy.pid")" 2>/dev/null || true; fi
    ;;
  *) echo "usage: $0 start <dir> | stop <dir>" >&2; exit 2 ;;
esac
