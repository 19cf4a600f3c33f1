#!/usr/bin/env bash
# make images: FROM scratch images of the mock and the sender, built with a
# plain `docker build` from static binaries — no registry, nothing pulled.
# Each image is tagged <repo>:$VERSION and <repo>:latest.
#   VERSION   the version tag and the binaries' -X main.version (default: git describe)
#   IMAGE_PREFIX  the repository prefix (default minipush/: minipush/mockserver, minipush/sender)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
prefix="${IMAGE_PREFIX:-minipush/}"
command -v docker >/dev/null || { echo "make images needs docker" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for name in mockserver sender; do
  ctx="$work/$name"
  mkdir -p "$ctx"
  CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=$version" \
    -o "$ctx/$name" "./$name/cmd/$name"
  cp "docker/$name.Dockerfile" "$ctx/Dockerfile"
  # The classic builder treats scratch as "no base image": nothing is pulled.
  if ! DOCKER_BUILDKIT=0 docker build --quiet \
    --label org.minipush.component="$name" --label org.opencontainers.image.version="$version" \
    -t "$prefix$name:$version" -t "$prefix$name:latest" "$ctx" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    exit 1
  fi
  echo "built $prefix$name:$version and $prefix$name:latest"
done
