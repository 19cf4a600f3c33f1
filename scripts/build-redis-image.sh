#!/usr/bin/env bash
# make image-redis: a FROM scratch image minipush/redis of the host's Debian
# redis-server (apt-get install redis-server), built with a plain docker
# build and nothing pulled: the binary, every shared library ldd names and
# the dynamic loader are copied into the build context at their paths.
# Tagged minipush/redis:<redis version> and :latest.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${IMAGE_PREFIX:-minipush/}"
command -v docker >/dev/null || { echo "make image-redis needs docker" >&2; exit 1; }
bin="$(command -v redis-server)" || { echo "make image-redis needs redis-server (apt-get install redis-server)" >&2; exit 1; }
# Debian's redis-server is a link to redis-check-rdb: one binary that acts
# on the name it is run by. It is copied under its own name.
version="$("$bin" --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')"
[ -n "$version" ] || { echo "cannot read the version of $bin" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/usr/bin" "$root/data"
cp -L "$bin" "$root/usr/bin/redis-server"
# Each library at the path the loader will look for it (ldd: "name => path"
# and the loader itself).
ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp docker/redis.Dockerfile "$work/Dockerfile"
if ! DOCKER_BUILDKIT=0 docker build --quiet --label org.minipush.component=redis \
  -t "${prefix}redis:$version" -t "${prefix}redis:latest" "$work" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  exit 1
fi
echo "built ${prefix}redis:$version and ${prefix}redis:latest"
