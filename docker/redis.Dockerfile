# Redis for the sender's multi-instance compose file (compose.redis.yaml),
# FROM scratch and built without a registry: scripts/build-redis-image.sh
# copies the host's Debian redis-server with the shared libraries ldd
# names and the dynamic loader into rootfs/. The append-only file is on,
# fsynced every second (docs/redis.md#durability); /data holds it.
FROM scratch
COPY rootfs/ /
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379
ENTRYPOINT ["/usr/bin/redis-server"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction", "--save", ""]
