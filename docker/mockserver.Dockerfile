# The mock platform, FROM scratch: one static binary (make images builds it
# with CGO_ENABLED=0 and copies it beside this file). Nothing is pulled.
FROM scratch
COPY mockserver /mockserver
# Inside a container the mock must listen on every interface.
ENV MINIPUSH_MOCK_ADDR=0.0.0.0:9100
EXPOSE 9100
ENTRYPOINT ["/mockserver"]
