#!/usr/bin/env bash
# Make sure the programs the test suite runs for real are installed.
# PostgreSQL: a running server on 127.0.0.1:5432 is used as it is; otherwise the
# Debian package is installed and the test setup starts a private server.
set -euo pipefail

have_postgres_server() {
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

have_postgres_binaries() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "Need root to install Debian packages: $*" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! have_postgres_server && ! have_postgres_binaries; then
  echo "Installing PostgreSQL (Debian package) for the test suite..."
  apt_install postgresql
fi

# Chromium: the web UI tests drive Debian's build through Playwright (no browser download).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium (Debian package) for the web UI tests..."
  apt_install chromium
fi

# Prometheus (and promtool): the monitoring tests scrape a real model server and check the rules.
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then
  echo "Installing Prometheus (Debian package) for the monitoring tests..."
  apt_install prometheus
fi
