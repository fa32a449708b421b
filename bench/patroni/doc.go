// Package patroni runs the Patroni side of the side-by-side benchmark
// (bench/compare): a two-node PostgreSQL 15 cluster managed by Patroni,
// with a single-member etcd as its DCS and HAProxy in front, all on
// loopback, and measures crash, blackhole and switchover on it the way
// internal/demo measures Switchyard.
//
// # What runs
//
// Start creates a temporary directory and starts, as an unprivileged user
// (the "postgres" account when the benchmark runs as root, as
// internal/pgharness does; PostgreSQL refuses root), on free loopback
// ports:
//
//   - etcd (Debian's etcd-server) with --enable-v2=true: Patroni 3.0's
//     "etcd" DCS speaks the v2 API;
//   - two Patroni members (Debian's patroni), each with its own directory,
//     data directory, PostgreSQL port and REST port, PostgreSQL 15 from
//     /usr/lib/postgresql/15/bin ($PG_BIN overrides), use_pg_rewind and
//     use_slots on, synchronous_mode on (comparable with Switchyard's
//     synchronous pair) and the PostgreSQL settings of internal/pgharness
//     (fsync=off among them; see that package for why it does not change
//     what is measured);
//   - HAProxy (Debian's haproxy) as the client address, routing to the
//     member whose REST API answers 200 on GET /primary, as Patroni's
//     documentation recommends: option httpchk GET /primary, http-check
//     expect status 200, inter 1s fall 2 rise 1, on-marked-down
//     shutdown-sessions.
//
// The processes never touch Debian's own etcd, haproxy or postgresql
// services; those may be running (make bench-compare stops them) without
// effect on the benchmark, which uses other ports and directories.
//
// Two timings: Default (Patroni's defaults: ttl 30, loop_wait 10,
// retry_timeout 10) and Tuned (ttl 10, loop_wait 2, retry_timeout 4: the
// leader key expires as fast as Patroni stays stable, within Patroni's
// rule loop_wait + 2*retry_timeout <= ttl).
//
// When a binary is missing, Start fails with ErrNotInstalled, which names
// the apt packages (Packages). Nothing is installed from Go.
//
// # What is measured
//
// Cluster.Run first brings the pair back to health (a leader, the other
// member its synchronous standby with no lag, HAProxy routing to the
// leader), then measures one scenario exactly as internal/demo measures
// Switchyard: internal/localstack's client writer inserts a row every
// 50 ms through HAProxy with 2 s connect and statement timeouts; after 100
// acknowledged writes the fault is injected; the time to recovery is from
// the fault to the first acknowledged write after it (for a switchover,
// the write-unavailable window from the last acknowledged write before the
// outage to the first after it); acknowledged rows missing on the new
// primary are lost writes; and both servers' pg_is_in_recovery() is polled
// directly every 20 ms for time with two writable nodes.
//
//   - crash: SIGKILL to the leader's Patroni and postmaster, then to every
//     PostgreSQL process of it left (the node is lost);
//   - blackhole: SIGSTOP to the leader's Patroni and every PostgreSQL
//     process: it answers nothing and resets nothing, like a node cut off
//     the network;
//   - switchover: POST /switchover with the replica as candidate (what
//     patronictl switchover --candidate --force does).
//
// After a crash or blackhole the former leader is killed (frozen processes
// included) and its Patroni restarted, which rejoins it with pg_rewind;
// if the pair is not healthy in time, that member is rebuilt from the
// leader. Neither is measured.
//
// The test that starts a real cluster is behind the build tag "patroni"
// (go test -tags patroni ./bench/patroni/), so that go test ./... neither
// needs Patroni nor counts a skipped test as passing.
package patroni
