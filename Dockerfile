# The image for `bakeoff k8s job`: bakeoff on the PATH of a small Debian.
# Build: docker build -t <registry>/bakeoff:<tag> .   (then push it where the cluster pulls)
# Each pod runs `bakeoff load … --segment $(JOB_COMPLETION_INDEX)/N --start-at T --json`.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p bakeoff \
    && cp target/release/bakeoff /usr/local/bin/bakeoff

FROM debian:bookworm-slim
# No CA certificates: bakeoff load speaks plain http:// only. The clock is the node's (NTP).
COPY --from=build /usr/local/bin/bakeoff /usr/local/bin/bakeoff
# Not root: the generator needs no privilege.
USER 65534:65534
ENTRYPOINT []
CMD ["bakeoff", "--help"]
