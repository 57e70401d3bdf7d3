# ruvopt images. Two targets share one base:
#   app   — `ruvopt serve` and `ruvopt worker --queues review` (Python + git)
#   bench — `ruvopt worker --queues bench`: adds cargo and bubblewrap, which run the
#           benchmarks inside a sandbox (no network, empty environment)
#   docker build --target app -t ruvopt:app .
#   docker build --target bench -t ruvopt:bench .
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 ruvopt \
 && useradd --system --uid 10001 --gid ruvopt --home-dir /home/ruvopt --create-home ruvopt \
 && install -d -o ruvopt -g ruvopt /var/cache/ruvopt
WORKDIR /opt/ruvopt

FROM base AS build
COPY pyproject.toml README.md ./
COPY checks ./checks
COPY bot ./bot
COPY cli ./cli
RUN python -m venv /opt/venv && /opt/venv/bin/pip install ".[app]"

FROM base AS app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH RUVOPT_CACHE_DIR=/var/cache/ruvopt
USER ruvopt
EXPOSE 8000
# No HEALTHCHECK here: the same image runs workers; probes live in deploy/ (/healthz, /readyz).
CMD ["ruvopt", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM app AS bench
USER root
# Debian's cargo/rustc: the same toolchain the offline tests use. bubblewrap sandboxes
# the builds and benches; it needs user namespaces from the container runtime.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cargo rustc bubblewrap build-essential \
 && rm -rf /var/lib/apt/lists/*
USER ruvopt
CMD ["ruvopt", "worker", "--queues", "bench"]
