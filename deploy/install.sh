#!/usr/bin/env bash
# Installs the Switchyard node agent: the nodeprobe binary, its systemd
# unit, its settings file and the softdog watchdog module, under --root
# (default /). It never starts, stops or disables anything: it prints the
# commands that do, to run once the settings are filled in.
#
#   deploy/install.sh --binary bin/agent/linux-arm64/nodeprobe \
#       [--cluster-config cluster.json] [--root DIR]
set -euo pipefail

usage() {
	echo "usage: $0 --binary PATH [--cluster-config FILE] [--root DIR]" >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=/
binary=
cluster_config=
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=${2:?--root needs a directory}; shift 2 ;;
	--binary) binary=${2:?--binary needs a path}; shift 2 ;;
	--cluster-config) cluster_config=${2:?--cluster-config needs a file}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "install.sh: unknown argument $1" >&2; usage ;;
	esac
done
[ -n "$binary" ] || { echo "install.sh: --binary is required (build it with: make agent)" >&2; usage; }
[ -f "$binary" ] && [ -x "$binary" ] || { echo "install.sh: $binary is not an executable file" >&2; exit 1; }
[ -d "$root" ] || { echo "install.sh: --root $root is not a directory" >&2; exit 1; }
root=$(cd "$root" && pwd)
dest() { printf '%s%s' "${root%/}" "$1"; }

install -D -m 0755 "$binary" "$(dest /usr/local/bin/nodeprobe)"
install -D -m 0644 "$here/switchyard-nodeprobe.service" "$(dest /etc/systemd/system/switchyard-nodeprobe.service)"
install -D -m 0644 "$here/modules-load.d/switchyard-softdog.conf" "$(dest /etc/modules-load.d/switchyard-softdog.conf)"
install -d -m 0750 "$(dest /etc/switchyard)"
# Settings are the operator's: an existing file is kept.
if [ -e "$(dest /etc/switchyard/nodeprobe.env)" ]; then
	echo "kept existing $(dest /etc/switchyard/nodeprobe.env)"
else
	install -m 0640 "$here/nodeprobe.env.example" "$(dest /etc/switchyard/nodeprobe.env)"
fi
if [ -n "$cluster_config" ]; then
	install -m 0640 "$cluster_config" "$(dest /etc/switchyard/cluster.json)"
fi

cat <<MSG
installed under $root:
  /usr/local/bin/nodeprobe
  /etc/systemd/system/switchyard-nodeprobe.service
  /etc/modules-load.d/switchyard-softdog.conf
  /etc/switchyard/nodeprobe.env$( [ -n "$cluster_config" ] && printf '\n  /etc/switchyard/cluster.json')
next, on the node (as root), after editing /etc/switchyard/nodeprobe.env:
  modprobe softdog
  systemctl disable --now postgresql.service && systemctl mask postgresql.service
  systemctl daemon-reload && systemctl enable --now switchyard-nodeprobe.service
MSG
