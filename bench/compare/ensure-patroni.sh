#!/usr/bin/env bash
# ensure-patroni.sh: make this machine able to run the Patroni side of
# bench/compare (bench/patroni). Idempotent: it only acts on what is missing
# and prints what it did.
#
#   1. Debian's patroni, etcd-server, haproxy and postgresql-contrib, when
#      any of their programs is missing (root only; a normal user gets the
#      exact command and exit status 1).
#   2. Debian's own etcd, haproxy and patroni services are not used: the
#      benchmark starts its own processes on free loopback ports in a
#      temporary directory. Where they run (systemd or SysV init) the script
#      stops and disables them, so they hold no port, memory or CPU. It never
#      uninstalls anything. (scripts/ensure-postgres.sh does the same for
#      Debian's postgresql service.)
set -euo pipefail

say() { printf 'ensure-patroni: %s\n' "$*"; }

pkgs="patroni etcd-server haproxy postgresql-contrib"
install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs}"

missing=()
for bin in patroni patronictl etcd haproxy; do
	command -v "${bin}" >/dev/null 2>&1 || [ -x "/usr/sbin/${bin}" ] || missing+=("${bin}")
done
dpkg-query -W -f='${Status}' postgresql-contrib 2>/dev/null | grep -q 'install ok installed' || missing+=(postgresql-contrib)

if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		say "missing: ${missing[*]}. Run as root:  sudo sh -c '${install_cmd}'"
		exit 1
	fi
	say "missing: ${missing[*]}; installing: ${install_cmd}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs}
else
	say "patroni $(patroni --version 2>/dev/null | awk '{print $2}'), $(etcd --version 2>/dev/null | head -n 1), haproxy and postgresql-contrib present"
fi

if [ "$(id -u)" -eq 0 ]; then
	for svc in patroni haproxy etcd; do
		if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
			if systemctl is-enabled --quiet "${svc}" 2>/dev/null || systemctl is-active --quiet "${svc}" 2>/dev/null; then
				say "disabling Debian's ${svc} service (the benchmark starts its own)"
				systemctl disable --now "${svc}" || say "could not disable ${svc}.service; continuing"
			fi
		elif [ -x "/etc/init.d/${svc}" ] && "/etc/init.d/${svc}" status >/dev/null 2>&1; then
			say "stopping Debian's ${svc} service (the benchmark starts its own)"
			"/etc/init.d/${svc}" stop || say "could not stop ${svc}; continuing"
		fi
	done
fi
say "ready"
