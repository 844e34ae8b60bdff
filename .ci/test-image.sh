#!/usr/bin/env bash
# Makes the test image headwatch-test/busybox:1 on the engine at DOCKER_HOST, unless it is there already: a static
# busybox with the applets the tests and benchmarks use (no registry is reachable, so nothing can be pulled).
# Used by .ci/dockerd.sh and by `npm run bench` on a fresh engine.
set -euo pipefail
IMAGE=headwatch-test/busybox:1
if docker image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
  echo "making $IMAGE needs a static busybox (Debian package busybox-static); found: ${bb:-none}" >&2
  exit 1
fi
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/tmp"
cp "$bb" "$R/bin/busybox"
for c in sh sleep echo cat yes printf seq date kill true false head tail grep wc; do ln -sf busybox "$R/bin/$c"; done
tar -C "$R" -c . | docker import - "$IMAGE" >/dev/null
