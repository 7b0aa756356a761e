#!/usr/bin/env bash
# deploy/setup.sh - make a fresh Debian 12 machine ready to build and test calsync.
#
# Installs the Debian packages that are missing (nothing else touches apt) and
# collects the pinned Apache Kafka broker from Maven Central into a cache outside
# the repo. Idempotent: a second run only checks and finishes in a few seconds.
#
#   CALSYNC_CACHE   cache root (default: $HOME/.cache/calsync)
set -euo pipefail

KAFKA_VERSION=3.9.1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CALSYNC_CACHE:-$HOME/.cache/calsync}"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_MARKER="$CACHE/kafka-$KAFKA_VERSION/.complete"
# The Kubernetes manifests' offline checks (tests/integration/test_k8s.py):
# kustomize renders deploy/k8s (built with the machine's go from the Go module
# proxy), kubernetes-validate (PyPI) checks the result against the Kubernetes
# JSON schemas it ships. Both pinned, into the cache.
KUSTOMIZE_VERSION=v5.7.1
KUSTOMIZE_DIR="$CACHE/kustomize-$KUSTOMIZE_VERSION"
KUBEVAL_VERSION=1.32.0
KUBEVAL_DIR="$CACHE/kubernetes-validate-$KUBEVAL_VERSION"

PACKAGES=(
  build-essential pkg-config
  libhiredis-dev librdkafka-dev libcurl4-openssl-dev libpq-dev libjansson-dev
  libical-dev libsodium-dev libxml2-dev libmicrohttpd-dev
  postgresql redis-server radicale kcat pgbouncer vdirsyncer unicode-cldr-core
  python3 python3-pytest python3-psycopg2 python3-redis python3-confluent-kafka
  python3-yaml python3-nacl yamllint docker-compose
  python3-dateutil
  openjdk-17-jre-headless maven ca-certificates curl
  clang libclang-rt-14-dev llvm
  python3-jsonschema python3-pip
)

say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      printf '%s\n' "$p"
    fi
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    say "debian packages: all ${#PACKAGES[@]} present"
    return
  fi
  say "debian packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_kafka() {
  if [ -f "$KAFKA_MARKER" ]; then
    say "kafka $KAFKA_VERSION: cached in $KAFKA_LIBS"
    return
  fi
  say "kafka $KAFKA_VERSION: collecting broker jars into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  local log="$CACHE/kafka-$KAFKA_VERSION/mvn.log"
  if ! mvn -q -B -Dstyle.color=never -f "$ROOT/deploy/kafka/pom.xml" \
        dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "kafka $KAFKA_VERSION: maven failed (log: $log)"
    exit 1
  fi
  ls "$KAFKA_LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
  touch "$KAFKA_MARKER"
}

fetch_kustomize() {
  if [ -x "$KUSTOMIZE_DIR/kustomize" ]; then
    say "kustomize $KUSTOMIZE_VERSION: cached in $KUSTOMIZE_DIR"
    return
  fi
  command -v go >/dev/null || { say "kustomize: no go on PATH to build it with"; exit 1; }
  say "kustomize $KUSTOMIZE_VERSION: building into $KUSTOMIZE_DIR"
  mkdir -p "$KUSTOMIZE_DIR"
  GOBIN="$KUSTOMIZE_DIR" GOFLAGS=-mod=mod \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
}

fetch_kubernetes_validate() {
  if [ -f "$KUBEVAL_DIR/.complete" ]; then
    say "kubernetes-validate $KUBEVAL_VERSION: cached in $KUBEVAL_DIR"
    return
  fi
  say "kubernetes-validate $KUBEVAL_VERSION: installing into $KUBEVAL_DIR"
  rm -rf "$KUBEVAL_DIR"
  python3 -m pip install --quiet --disable-pip-version-check --target "$KUBEVAL_DIR" \
    "kubernetes-validate==$KUBEVAL_VERSION"
  touch "$KUBEVAL_DIR/.complete"
}

main() {
  install_packages
  fetch_kafka
  fetch_kustomize
  fetch_kubernetes_validate
  say "ready"
}

main "$@"
