# One image per deployable: docker build --build-arg SERVICE=orders .
# The dependencies are built in a layer of their own (cargo-chef), so that a
# change to our code rebuilds only our crates.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG SERVICE
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json --bin ${SERVICE}
COPY . .
RUN cargo build --release --locked --bin ${SERVICE} \
 && cp target/release/${SERVICE} /service

# distroless: no shell, no package manager; CA certificates for Stripe's API.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /service /service
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/service"]
