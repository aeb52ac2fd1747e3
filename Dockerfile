# syntax=docker/dockerfile:1
# cart-sentinel: multi-stage build. Dependencies are cached in their own layer with
# cargo-chef; the runtime image is Debian slim with a non-root user.

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# gcc is in the image; aws-lc-rs (rustls' crypto) needs it and nothing else on x86_64.
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin cart-sentinel
COPY . .
RUN cargo build --release --locked --bin cart-sentinel

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/cart-sentinel --create-home sentinel
COPY --from=builder /app/target/release/cart-sentinel /usr/local/bin/cart-sentinel
COPY cds-hooks /opt/cart-sentinel/cds-hooks
# Production defaults: every setting can be overridden with SENTINEL__<SECTION>__<KEY>.
# Production mode requires CDS client authentication ([[auth.clients]] in a config file named
# by SENTINEL_CONFIG) and allows no FHIR server or CORS origin until configured.
ENV SENTINEL__SERVER__MODE=production \
    SENTINEL__SERVER__HOST=0.0.0.0 \
    SENTINEL__SERVER__PORT=8080 \
    SENTINEL__RULES__DIR=/opt/cart-sentinel/cds-hooks \
    SENTINEL__STORAGE__DATA_DIR=/var/lib/cart-sentinel \
    SENTINEL__LOG__FORMAT=json
USER sentinel
WORKDIR /var/lib/cart-sentinel
VOLUME ["/var/lib/cart-sentinel"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/cart-sentinel"]
CMD ["serve"]
