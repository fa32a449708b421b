// Package cluster describes one Switchyard cluster: its two nodes, how
// clients reach the primary (overlay IP route, Elastic IP, Route 53 records),
// how a failed node is fenced and how far behind a standby may be and still
// be promoted.
//
// A Config is plain data, loaded from JSON (the SWITCHYARD_CONFIG environment
// variable of every Lambda, a file for the CLI and the local stack) and
// checked by Validate, which names the first thing wrong. Nothing in this
// package talks to AWS or PostgreSQL.
package cluster
