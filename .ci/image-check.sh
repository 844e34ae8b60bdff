#!/usr/bin/env bash
# The container image, checked as an operator would run it: builds the Dockerfile with a real `docker build` on a
# private engine (on local stand-ins for the base images, since no registry is reachable), runs it with a test
# configuration against that same engine — through the Docker socket proxy, as in docker-compose.example.yml —
# waits until Docker reports it healthy and /readyz says Docker is reachable, checks it runs as a non-root user
# with no TypeScript compiler inside, and prints what the image adds on top of its base.
#
# Usage: .ci/image-check.sh [engine dir]   (as root; starts and stops its own dockerd and proxy there)
# The engine uses overlay2 when this machine supports it (layers shared, a build takes a few minutes) and vfs
# otherwise (every build step copies the whole filesystem: much slower, same result).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-$(mktemp -d /tmp/hwimg.XXXX)}
IMAGE=headwatch:ci
NAME=headwatch-image-check-$$
t0=$(date +%s)
step() { echo "[image] $(($(date +%s) - t0)) s: $*"; }

cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -n "${DOCKER_HOST:-}" ]; then
    echo "[image] container log:" >&2
    docker logs "$NAME" 2>&1 | tail -30 >&2 || true
  fi
  .ci/docker-proxy.sh stop "$D" || true
  .ci/dockerd.sh stop "$D" || true
  exit "$status"
}
trap cleanup EXIT

storage=vfs
probe=$(mktemp -d /tmp/hwov.XXXX)
mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
  umount "$probe/merged"
  storage=overlay2
fi
rm -rf "$probe"
step "starting a private dockerd ($storage) in $D"
eval "$(HEADWATCH_DOCKERD_STORAGE=$storage .ci/dockerd.sh start "$D")"
export DOCKER_HOST
RAW=$DOCKER_HOST

step "making the stand-in base images"
read -r RUNTIME_BASE BUILD_BASE < <(.ci/standin-images.sh)

step "docker build (BASE_IMAGE=$RUNTIME_BASE BUILD_IMAGE=$BUILD_BASE)"
# --network host: the private engine has no bridge, and npm ci inside the build needs the registry.
docker build --network host --build-arg BASE_IMAGE="$RUNTIME_BASE" --build-arg BUILD_IMAGE="$BUILD_BASE" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$IMAGE" . >"$D/build.log" 2>&1 || { tail -40 "$D/build.log" >&2; exit 1; }

step "running it against the same engine through the socket proxy"
eval "$(.ci/docker-proxy.sh start "$D")"   # exports DOCKER_HOST=tcp://127.0.0.1:PORT (proxy), HEADWATCH_TEST_ENGINE
PROXY=$DOCKER_HOST
export DOCKER_HOST=$RAW
port=$((20000 + RANDOM % 30000))
hs=headwatch-image-check-hs-$$
docker run -d --name "$hs" --network none headwatch-test/busybox:1 sh -c 'while :; do echo "starting headscale"; sleep 5; done' >/dev/null
# Host network: the engine has no bridge; the proxy listens on loopback. The health check runs every 2 s here
# instead of 30 s (same command, same endpoint) so CI does not wait for the first interval.
docker run -d --name "$NAME" --network host --health-interval 2s \
  -e DOCKER_HOST="$PROXY" -e HEADWATCH_HTTP_HOST=127.0.0.1 -e HEADWATCH_HTTP_PORT="$port" \
  -e HEADSCALE_CONTAINER="$hs" -e TAILSCALE_CONTAINERS=none -e LOG_LEVEL=info "$IMAGE" >/dev/null
health=starting
for _ in $(seq 1 120); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$NAME")
  [ "$health" = healthy ] && break
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || { echo "[image] the container exited" >&2; exit 1; }
  sleep 1
done
[ "$health" = healthy ] || { echo "[image] Docker reports the container $health" >&2; exit 1; }
step "Docker reports it healthy"

ready=$(node -e "fetch('http://127.0.0.1:$port/readyz').then(async r => { const b = await r.json(); console.log(r.status, JSON.stringify(b.checks.find(c => c.name === 'docker'))) }, e => console.log('error', e.message))")
echo "[image] /readyz: $ready"
case "$ready" in 200*) ;; *) echo "[image] headwatch in the container is not ready" >&2; exit 1 ;; esac
# Read the log whole first: `grep -q` closing the pipe early would fail the pipeline under pipefail.
logs=$(docker logs "$NAME" 2>&1)
grep -q "watching container $hs" <<<"$logs" || { echo "[image] headwatch did not start watching $hs" >&2; exit 1; }

uid=$(docker exec "$NAME" node -e 'process.stdout.write(String(process.getuid()))')
user=$(docker inspect -f '{{.Config.User}}' "$IMAGE")
[ "$uid" != 0 ] || { echo "[image] the process runs as root" >&2; exit 1; }
echo "[image] runs as uid $uid (image USER $user)"
if docker exec "$NAME" sh -c 'ls /app/node_modules/typescript /app/node_modules/tsx /app/node_modules/.bin/tsc' >/dev/null 2>&1; then
  echo "[image] a TypeScript compiler is in the image" >&2
  exit 1
fi
docker exec "$NAME" sh -c 'touch /app/dist/x' 2>/dev/null && { echo "[image] the process can write its own code" >&2; exit 1; }
echo "[image] OCI labels: $(docker inspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}' "$IMAGE" | cut -c1-300)"

image=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base=$(docker image inspect -f '{{.Size}}' "$RUNTIME_BASE")
added=$((image - base))
# What a pull transfers for those layers: the layers the base does not have, gzip-compressed.
W=$(mktemp -d)
docker save "$IMAGE" | tar -C "$W" -xf -
base_layers=$(docker image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' "$RUNTIME_BASE")
gz=0
i=0
for layer in $(node -e "console.log(JSON.parse(require('fs').readFileSync('$W/manifest.json','utf8'))[0].Layers.join(' '))"); do
  i=$((i + 1))
  [ "$i" -le "$(echo "$base_layers" | wc -w)" ] && continue
  gz=$((gz + $(gzip -c "$W/$layer" | wc -c)))
done
rm -rf "$W"
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
verdict=met
[ "$added" -le 60000000 ] || verdict=MISSED
echo "[image] size: image $(mb "$image"), base $(mb "$base"), added by headwatch $(mb "$added") uncompressed ($(mb "$gz") gzip-compressed); target: added <= 60 MB: $verdict"
step "image check passed"
