// Package pgnode is Switchyard's SQL layer: small functions that ask one
// PostgreSQL server about itself or tell it to do one thing, over a single
// pgx connection.
//
// Everything here is mechanism, not policy. Status reports what a server
// says about its role, timeline, WAL positions, WAL receiver and downstream
// replication; Promote, Checkpoint, Demote and the Wait… helpers each run a
// few statements and return what happened. Whether to promote, whom to fence
// and how far behind is too far are decided elsewhere (the Lambdas' decision
// code and the node probe), from the values these functions return.
//
// Conditions a caller branches on are named errors (ErrPromoteIncomplete,
// ErrNotInRecovery, ErrInRecovery), never booleans to remember to check.
// Everything else is wrapped with the statement that failed.
//
// LSN is PostgreSQL's pg_lsn as a uint64 with PostgreSQL's text form
// ("16/B374D848"), byte arithmetic and JSON encoding.
//
// Every function runs on the caller's connection and is bounded by ctx. As
// everywhere with pgx, a context that ends in the middle of a query closes
// the connection: callers reconnect rather than reuse it after a timeout.
//
// Privileges: Status works for a role with pg_monitor (pg_read_all_stats
// for the sender host and replication details); Promote, Checkpoint and
// Demote need a superuser, or EXECUTE on pg_promote, the pg_checkpoint role,
// and for Demote a superuser (ALTER SYSTEM, terminating others' sessions).
// PostgreSQL 13 or later is required (pg_stat_wal_receiver.flushed_lsn).
package pgnode
