# syntax=docker/dockerfile:1
# Build: docker build -t ddbsync .
# Run:   docker run -v $PWD/pipeline.yaml:/etc/ddbsync/pipeline.yaml -v ddbsync-state:/var/lib/ddbsync ddbsync
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ddbsync ./cmd/ddbsync

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ddbsync /usr/local/bin/ddbsync
ENV DDBSYNC_STATE_DIR=/var/lib/ddbsync \
    DDBSYNC_METRICS_ADDR=0.0.0.0:4900
VOLUME /var/lib/ddbsync
EXPOSE 4900
USER nonroot:nonroot
ENTRYPOINT ["ddbsync"]
CMD ["run", "-f", "/etc/ddbsync/pipeline.yaml"]
