# syntax=docker/dockerfile:1.7
#
# The sessionops operator image:
#   docker build -t ghcr.io/sessionops/sessionops:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 ... (each platform builds
# natively, under emulation when needed; ring's C and assembly make cross-compiling less simple).
#
# The binary links glibc dynamically and uses rustls with ring (no OpenSSL), so the runtime
# image is distroless "cc" (glibc, libgcc, CA certificates, tzdata; no shell). Builder and
# runtime are both Debian 12 (bookworm), so the glibc the binary was linked against is present.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src

# Only what the build reads: the manifests, the sources of the binary and of the workspace's
# crates, the examples the demo embeds (include_str!) and the bench sources Cargo.toml
# declares. Anything else stays out of the build context (.dockerignore) and cannot
# invalidate this layer.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY crates ./crates
COPY examples ./examples
COPY benches ./benches

# Without default features: no Graph simulator (it issues tokens) and no demo in the image.
# Dependencies and incremental artifacts live in BuildKit cache mounts, so a source change
# rebuilds only the crates it touches. The target directory is a cache, not a layer: copy the binary out.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --package sessionops --bin sessionops --no-default-features \
 && install -D -m 0755 target/release/sessionops /out/sessionops

FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="sessionops" \
      org.opencontainers.image.description="Microsoft 365 / Entra ID session control as code: a Kubernetes operator and CLI over Microsoft Graph" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/sessionops/sessionops" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=builder /out/sessionops /sessionops

# The distroless "nonroot" user; numeric so that runAsNonRoot can verify it.
USER 65532:65532
# /metrics, /healthz, /readyz (--metrics-addr).
EXPOSE 8080
ENTRYPOINT ["/sessionops"]
CMD ["operator"]
