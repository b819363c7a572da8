# Roundtable: one static binary on a distroless base.
#
#   docker build -t roundtable .
#   docker volume create roundtable-data
#   docker run -d -p 8080:8080 -v roundtable-data:/data \
#     -e ROUNDTABLE_BASE_URL=https://roundtable.example.edu \
#     -e ROUNDTABLE_SECRET=... roundtable
#
# See docs/operations.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, in their own layer: rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/roundtable ./cmd/roundtable
# The data directory, owned by the nonroot user (uid 65532), so that a new
# named volume mounted on /data starts out writable by it.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roundtable /roundtable
COPY --from=build --chown=65532:65532 /out/data /data
ENV ROUNDTABLE_DATA_DIR=/data ROUNDTABLE_LISTEN=:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/roundtable"]
CMD ["serve"]
