#!/usr/bin/env bash
# Makes local stand-ins for the Dockerfile's two base images on the engine at DOCKER_HOST, from this machine's own
# files, since no image registry is reachable from CI:
#   headwatch-ci/node:20-slim   the runtime base (BASE_IMAGE): the machine's node binary and the libraries it
#                               links, a shell and coreutils (the Dockerfile's RUN steps), a `node` user (uid 1000)
#   headwatch-ci/node:20-build  the build base (BUILD_IMAGE): the above plus npm, Node's headers, python3, make and
#                               g++ for better-sqlite3's addon, and this machine's CA bundle and npm settings so npm
#                               inside the build reaches the registry the way the machine does. Those settings live
#                               only in the stand-in, never in the Dockerfile: an official image needs none of them.
# Files come from the Debian packages that own them (dpkg -L over the installed dependency closure), so the
# stand-ins are Debian bookworm userlands like the official images; made once per engine.
set -euo pipefail
RUNTIME=headwatch-ci/node:20-slim
BUILD=headwatch-ci/node:20-build

# Installed packages the given ones need, transitively (Pre-Depends and Depends; the first installed alternative;
# virtual packages through what provides them).
closure() {
  local -A seen=()
  local queue=("$@") p deps alt a prov
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "${seen[$p]:-}" ] && continue
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || continue
    seen[$p]=1
    deps=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$p" | tr ',' '\n' | sed -E 's/\([^)]*\)//g; s/:any//g')
    while IFS= read -r alt; do
      for a in ${alt//|/ }; do
        if dpkg-query -W -f='${db:Status-Abbrev}' "$a" 2>/dev/null | grep -q '^ii'; then queue+=("$a"); break; fi
        prov=$(dpkg-query -W -f='${Package} ${Provides}\n' | awk -v v="$a" '{for (i = 2; i <= NF; i++) { g = $i; gsub(/[,(].*/, "", g); if (g == v) { print $1; exit } } }')
        if [ -n "$prov" ]; then queue+=("$prov"); break; fi
      done
    done <<<"$deps"
  done
  printf '%s\n' "${!seen[@]}"
}

# Paths to archive: the packages' files, moved under /usr as on a merged-/usr system (the root links come first).
files_of() {
  printf '%s\n' /bin /sbin /lib /lib64
  dpkg -L $(closure "$@") 2>/dev/null | grep '^/' | sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#; s#^/(bin|sbin|lib|lib64)$#/usr/\1#' | sort -u
}

# A root filesystem directory: the listed host paths plus users, /tmp and the extra files given as src=dest pairs.
make_image() {
  local tag=$1 list=$2
  shift 2
  local R
  R=$(mktemp -d)
  tar -C / --no-recursion --ignore-failed-read -cf - -T "$list" 2>/dev/null | tar -C "$R" -xf -
  mkdir -p "$R/tmp" "$R/etc" "$R/home/node" "$R/root"
  chmod 1777 "$R/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$R/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$R/etc/group"
  chown 1000:1000 "$R/home/node"
  for pair in "$@"; do mkdir -p "$(dirname "$R/${pair#*=}")"; cp -aL "${pair%%=*}" "$R/${pair#*=}"; done
  tar -C "$R" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["node"]' - "$tag" >/dev/null
  rm -rf "$R"
}

have() { docker image inspect "$1" >/dev/null 2>&1; }

node_bin=$(readlink -f "$(command -v node)")
if ! have "$RUNTIME"; then
  L=$(mktemp)
  {
    files_of dash bash coreutils sed grep findutils tar gzip
    # A Debian base userland (the official slim image has it too); the node binary alone (copied to /usr/local/bin as in the official image; not its package: npm and the
    # headers are build tools), with the libraries it links.
    ldd "$node_bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | xargs -r readlink -f
    ldd "$node_bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  } | sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' | sort -u >"$L"
  make_image "$RUNTIME" "$L" "$node_bin=/usr/local/bin/node"
  rm -f "$L"
fi

if ! have "$BUILD"; then
  L=$(mktemp)
  node_pkg=$(dpkg -S "$node_bin" 2>/dev/null | cut -d: -f1 | head -1)
  [ -n "$node_pkg" ] || { echo "$node_bin belongs to no Debian package: cannot collect npm and Node's headers for the build stand-in" >&2; exit 1; }
  files_of dash bash coreutils sed grep findutils tar gzip diffutils "$node_pkg" python3 make g++ >"$L"
  # cc and c++ are links through /etc/alternatives that the packages' scripts made (dpkg -L does not list them).
  { find /etc/alternatives -maxdepth 1; find /usr/bin -maxdepth 1 -lname '/etc/alternatives/*'; } >>"$L"
  # npm as the machine runs it (it may have been upgraded in place, beyond what the package shipped).
  npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
  find "$npm_dir" >>"$L"
  # npm's settings for this machine: its CA, and Node's headers for node-gyp.
  npmrc=$(mktemp)
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nnodedir=/usr\nfund=false\naudit=false\nupdate-notifier=false\n' >"$npmrc"
  chmod 644 "$npmrc"
  make_image "$BUILD" "$L" /etc/ssl/certs/ca-certificates.crt=/etc/ssl/certs/ca-certificates.crt "$npmrc=/usr/etc/npmrc"
  rm -f "$L" "$npmrc"
fi
echo "$RUNTIME $BUILD"
