#!/usr/bin/env bash
# Set-up shared by `make test` and `make demo` on a fresh Debian machine:
# Go must be there; PostgreSQL is installed from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not installed. Install Go 1.26 (https://go.dev/doc/install) and put it on PATH." >&2
  exit 1
fi
bash scripts/ensure-postgres.sh
command -v spin >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1 || { c='apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y spin gcc'; if [ "$(id -u)" -eq 0 ]; then echo "setup: installing the protocol model checker: ${c}"; sh -c "${c}"; else echo "setup: spin and gcc (model/ checker) not found. Run as root:  sudo sh -c '${c}'" >&2; exit 1; fi; }
