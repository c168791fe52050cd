# Sextant container image: a static binary on a minimal base, run as a
# non-root user.
#
#   docker build -t sextant:latest --build-arg VERSION=$(git describe --always) .
#   docker run --rm -p 8848:8848 -p 9848:9848 -p 8600:53/udp -p 8600:53/tcp sextant:latest
#
# The default command runs a standalone node with its data in
# /var/lib/sextant (mount a volume there to keep it); pass other arguments
# for a cluster member (etc/kubernetes/sextant.yaml does).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sextant ./cmd/sextant \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sextant /usr/local/bin/sextant
COPY --from=build --chown=65532:65532 /out/data /var/lib/sextant
USER 65532:65532
WORKDIR /var/lib/sextant
EXPOSE 8848/tcp 9848/tcp 7848/tcp 53/udp 53/tcp
ENTRYPOINT ["/usr/local/bin/sextant"]
CMD ["server", "--http-addr=0.0.0.0:8848", "--dns-addr=0.0.0.0:53", "--data-dir=/var/lib/sextant"]
