# ruvopt images. Two targets share one base:
#   app   — `ruvopt serve` and `ruvopt worker --queues review` (Python + git)
#   bench — `ruvopt worker --queues bench`: adds cargo and bubblewrap, which run the
#           benchmarks inside a sandbox (no network, empty environment)
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

FROM app AS bench
USER 0
# Debian's cargo/rustc: the same toolchain the offline tests use. bubblewrap sandboxes
# the builds and benches; it needs user namespaces from the container runtime.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cargo rustc bubblewrap build-essential \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
CMD ["ruvopt", "worker", "--queues", "bench"]
