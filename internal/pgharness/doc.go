// Package pgharness starts real PostgreSQL servers for Switchyard's tests and
// local demo: single nodes and primary/standby pairs with streaming
// replication, on free loopback ports, in a throw-away directory.
//
// # Binaries and users
//
// The server binaries come from $PG_BIN when set, else from the newest
// /usr/lib/postgresql/<major>/bin (Debian's layout), else from $PATH.
// scripts/ensure-postgres.sh installs them on a fresh Debian machine.
//
// PostgreSQL refuses to run as root. When the test process runs as root,
// initdb, pg_basebackup and postgres run as the unprivileged "postgres" user
// (created by Debian's package), or "switchyard" when that does not exist
// (the script creates it). The switch is done by the kernel at exec time via
// syscall.SysProcAttr.Credential, which is what `setpriv --reuid --regid
// --clear-groups` does, without depending on an external tool. The temporary
// directory is chowned to that user and every parent must be traversable by
// it (os.TempDir, normally /tmp, is). As a normal user everything runs as that
// user directly.
//
// # Processes
//
// Each server is a direct child process (`postgres -D <data>`), not daemonised
// through pg_ctl, so the harness knows its PID and exit. Stop sends the same
// signals pg_ctl does (smart SIGTERM, fast SIGINT, immediate SIGQUIT); Kill is
// a crash: SIGKILL to the postmaster and every process of that instance, like
// a machine losing power. The postmaster gets SIGKILL if the test process
// dies (Pdeathsig), and Close finds leftovers by their working directory
// (PostgreSQL processes chdir into their data directory) and by postmaster.pid,
// so no orphan postgres survives a test, even a failed one. (A test binary
// killed with SIGKILL leaves its switchyard-pg-* temporary directory behind,
// but no process.) Pdeathsig follows the OS thread that started the child;
// the Go runtime only ends threads locked with runtime.LockOSThread, so do
// not start nodes from such a goroutine.
//
// # Settings, and why fsync=off is safe here
//
// Every node runs with wal_level=replica, hot_standby=on, wal_log_hints=on and
// full_page_writes=on (so pg_rewind can rejoin an old primary),
// synchronous_commit=on, short wal_sender_timeout / wal_receiver_timeout (5s)
// so cut links are noticed quickly, and fsync=off. fsync only protects against
// losing the operating system's page cache (power loss, kernel crash). The
// harness never simulates that: a crash here is the death of PostgreSQL's
// processes, after which the kernel still holds every write, so crash
// recovery, replication, synchronous commit and promotion behave exactly as
// with fsync=on. synchronous_commit stays on, because synchronous replication
// is what is being tested.
//
// Authentication: the superuser "postgres" is trusted on loopback (also for
// replication); the application role logs in with a SCRAM password.
//
// # Synchronous replication has no timeout
//
// With PairOptions.Sync the primary names the standby in
// synchronous_standby_names. If the standby goes away, every commit on the
// primary waits forever. statement_timeout does not end that wait (since
// PostgreSQL 13 the timer is disarmed before the commit). While it waits the
// transaction is already durable locally but invisible to other sessions.
// A client must bound the wait itself, with a context deadline: pgx v5 then
// returns a timeout error and, as it abandons the connection, sends a cancel
// request; the server ends the wait with a WARNING ("the transaction has
// already committed locally") and the row becomes visible: it was never
// rolled back. If the cancel request cannot reach the server (a partitioned
// client) the backend keeps waiting and holds its connection slot until the
// standby returns or pg_cancel_backend/pg_terminate_backend ends it.
// TestSyncPair shows this.
// After promotion the promoted standby has no synchronous_standby_names, so it
// accepts writes without a standby; re-enabling synchronous replication after
// a failover is the orchestrator's job.
//
// The package is Linux-only (it reads /proc) and is a test and demo fixture,
// never part of a deployed component.
package pgharness
