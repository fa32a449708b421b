#!/usr/bin/env bash
# ensure-postgres.sh: make this machine able to run Switchyard's PostgreSQL
# test harness (internal/pgharness) and the local demo. Idempotent: safe to
# run again; it only acts on what is missing and prints what it did.
#
# Target: a fresh Debian 12 machine (other Debian/Ubuntu releases work too).
#
#   1. PostgreSQL server binaries: if no /usr/lib/postgresql/*/bin/initdb
#      exists, install Debian's "postgresql" package (root only; a normal
#      user gets the exact command to run and exit status 1).
#   2. Debian's auto-created cluster (e.g. 15/main on port 5432) is not used
#      by Switchyard: every test and demo creates its own throw-away clusters
#      in a temporary directory on free loopback ports. The script stops that
#      cluster and disables its service so it does not hold port 5432 or
#      memory. It never deletes it and never uninstalls anything.
#   3. An unprivileged account to run PostgreSQL when the harness runs as
#      root (PostgreSQL refuses to run as root). The package creates the
#      "postgres" user and the harness uses it. Only if it is missing (for
#      example binaries installed another way, PG_BIN pointing elsewhere) the
#      script creates a locked system user "switchyard", which the harness
#      uses as its fallback.
#
# Environment: PG_BIN (optional) names a directory holding initdb, pg_ctl,
# postgres and pg_basebackup; when set and usable, step 1 is skipped.
set -euo pipefail

say() { printf 'ensure-postgres: %s\n' "$*"; }

is_root=0
if [ "$(id -u)" -eq 0 ]; then is_root=1; fi

find_initdb() {
	if [ -n "${PG_BIN:-}" ] && [ -x "${PG_BIN}/initdb" ]; then
		printf '%s\n' "${PG_BIN}/initdb"
		return 0
	fi
	# Newest major version first.
	ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -t/ -k5,5n | tail -n 1
}

# 1. Binaries.
initdb_path="$(find_initdb || true)"
if [ -z "${initdb_path}" ]; then
	install_cmd='apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql'
	if [ "${is_root}" -ne 1 ]; then
		say "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb)."
		say "Run as root:  sudo sh -c '${install_cmd}'"
		say "or set PG_BIN to a directory containing initdb, pg_ctl, postgres and pg_basebackup."
		exit 1
	fi
	say "installing Debian's postgresql package: ${install_cmd}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
	initdb_path="$(find_initdb || true)"
	if [ -z "${initdb_path}" ]; then
		say "installation finished but no initdb was found under /usr/lib/postgresql/*/bin" >&2
		exit 1
	fi
else
	say "PostgreSQL binaries present: $(dirname "${initdb_path}") ($("${initdb_path}" --version))"
fi

# 2. Debian's default cluster is not needed.
if [ "${is_root}" -eq 1 ] && command -v pg_lsclusters >/dev/null 2>&1; then
	# Columns: Ver Cluster Port Status Owner Data-directory Log-file
	pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
		if [ "${status}" = "online" ] || [ "${status#online}" != "${status}" ]; then
			say "stopping Debian cluster ${ver}/${name} (not used by Switchyard)"
			pg_ctlcluster "${ver}" "${name}" stop || say "could not stop ${ver}/${name}; continuing"
		else
			say "Debian cluster ${ver}/${name} is ${status}; leaving it stopped"
		fi
	done
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		if systemctl is-enabled --quiet postgresql 2>/dev/null; then
			say "disabling the postgresql service (Switchyard starts its own servers)"
			systemctl disable --now postgresql || say "could not disable postgresql.service; continuing"
		else
			say "postgresql service already disabled"
		fi
	fi
fi

# 3. Unprivileged account for running PostgreSQL as root.
if [ "${is_root}" -eq 1 ]; then
	if id -u postgres >/dev/null 2>&1; then
		say "run-as user for root: postgres (uid $(id -u postgres)) exists"
	elif id -u switchyard >/dev/null 2>&1; then
		say "run-as user for root: switchyard (uid $(id -u switchyard)) exists"
	else
		say "creating locked system user switchyard to run PostgreSQL"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin switchyard
	fi
else
	say "running as $(id -un): PostgreSQL will run as this user, no extra account needed"
fi

say "ready"
