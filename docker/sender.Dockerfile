# The sender, FROM scratch: one static binary (pure-Go SQLite; root
# certificates compiled in for the platforms' HTTPS hosts). Mount the
# configuration at /etc/minipush/sender.yaml (or pass -config) and keep
# /data on a volume: it holds the queue.
FROM scratch
COPY sender /sender
ENV MINIPUSH_LISTEN=0.0.0.0:9200 MINIPUSH_STORAGE_PATH=/data/minipush.db
EXPOSE 9200
VOLUME ["/data"]
ENTRYPOINT ["/sender"]
CMD ["-config", "/etc/minipush/sender.yaml"]
