# ruvopt images. Two targets share one base:
#   app   — `ruvopt serve` and `ruvopt worker --queues review` (Python + git)
#   bench — `ruvopt worker --queues bench`: adds a Rust toolchain, bubblewrap (the
#           sandbox the builds and benches run in), prlimit, a C linker and valgrind
#           (instruction counts); docs/bench.md
#   docker build --target app -t ruvopt:app .
#   docker build --target bench -t ruvopt:bench .
# Lint: hadolint Dockerfile (settings and the one ignored rule's reason: .hadolint.yaml).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# uid/gid 10001: numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
# /var/lib/ruvopt holds the App's credentials file written by the one-click setup.
RUN groupadd --system --gid 10001 ruvopt \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/ruvopt --create-home ruvopt \
 && install -d -o 10001 -g 10001 -m 0755 /var/cache/ruvopt \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/ruvopt
WORKDIR /opt/ruvopt

FROM base AS build
# The same install script as `make install` and the tests (scripts/install.sh), not
# editable; .dockerignore keeps caches, virtualenvs and tests out of the context.
COPY . /src
RUN bash /src/scripts/install.sh /opt/venv app

FROM base AS app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    RUVOPT_CACHE_DIR=/var/cache/ruvopt \
    RUVOPT_CREDENTIALS_FILE=/var/lib/ruvopt/credentials.json
USER 10001:10001
EXPOSE 8000 9100
# No HEALTHCHECK here: the same image runs workers; probes live in deploy/ (/healthz, /readyz).
CMD ["ruvopt", "serve", "--host", "0.0.0.0", "--port", "8000"]

# One pinned toolchain for every bench (base and head are always measured with the same
# one; change RUST_IMAGE to move all benches to another rustc). Copied from the official
# image: Debian's own cargo is too old for today's Cargo.lock (version 4).
ARG RUST_IMAGE=rust:1.95-slim-bookworm
FROM ${RUST_IMAGE} AS rust

FROM app AS bench
USER 0
# bubblewrap: the sandbox; util-linux: prlimit (its memory limit); gcc + libc6-dev: the
# linker rustc calls; valgrind: `[bench] metric = "instructions"`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap util-linux gcc libc6-dev valgrind \
 && rm -rf /var/lib/apt/lists/*
COPY --from=rust /usr/local/rustup /usr/local/rustup
COPY --from=rust /usr/local/cargo/bin /usr/local/cargo/bin
# The toolchain is read-only for the worker; its cargo home (downloaded crate sources,
# registry mirrors in config.toml) is the ruvopt user's own (RUVOPT_BENCH_CARGO_HOME).
ENV RUSTUP_HOME=/usr/local/rustup PATH=/usr/local/cargo/bin:$PATH \
    RUVOPT_BENCH_CARGO_HOME=/home/ruvopt/.cargo
USER 10001:10001
# The worker checks at start that the sandbox works here (user, network and PID
# namespaces and a fresh /proc: see deploy/) and refuses to take bench jobs otherwise.
CMD ["ruvopt", "worker", "--queues", "bench"]
