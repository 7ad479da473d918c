# syntax=docker/dockerfile:1
# Build: docker build -t ddbsync .
# Run:   docker run -v $PWD/pipeline.yaml:/etc/ddbsync/pipeline.yaml:ro -v ddbsync-state:/var/lib/ddbsync ddbsync
#
# The image runs as distroless's nonroot user (uid 65532). Its state
# directory /var/lib/ddbsync belongs to that user, and is also the working
# directory, so relative paths in a pipeline (a dlq_file) land where it can
# write. A named volume mounted there starts with that ownership; a host
# directory bind-mounted there must be writable by uid 65532
# (chown 65532:65532 DIR), or ddbsync exits at start saying so.
# test/integration/container_e2e_test.go runs the binary the way this image
# does (this user, environment, working directory) since no container engine
# runs in CI.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ddbsync ./cmd/ddbsync \
 && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ddbsync /usr/local/bin/ddbsync
COPY --from=build --chown=65532:65532 /out/state /var/lib/ddbsync
ENV DDBSYNC_STATE_DIR=/var/lib/ddbsync \
    DDBSYNC_METRICS_ADDR=0.0.0.0:4900
WORKDIR /var/lib/ddbsync
VOLUME /var/lib/ddbsync
EXPOSE 4900
USER 65532:65532
ENTRYPOINT ["ddbsync"]
CMD ["run", "-f", "/etc/ddbsync/pipeline.yaml"]
