// Command overhead measures what Switchyard's node agent costs while
// nothing fails: each agent's memory and CPU, and the AWS API calls a
// cluster makes per hour (the "agent overhead" half of the side-by-side
// with Patroni; bench/compare measures recovery).
//
//	go run ./bench/overhead -duration 10m
//	make bench-overhead DURATION=10m
//
// # What runs
//
// The real agent: nodeprobe is built as it is deployed, as `make agent`
// builds it (`CGO_ENABLED=0 go build -trimpath -ldflags="-s -w"`, a static
// binary; -build plain measures a bare `go build`, which is dynamically
// linked and maps the C library: about 1.2 MiB more RSS), and runs as one
// separate process per node, as its systemd unit would (root, pg_ctl through runuser as the data directory's owner),
// next to a synchronous PostgreSQL pair started by internal/pgharness
// (node1 primary, node2 standby). The AWS emulator (internal/localaws:
// DynamoDB, CloudWatch, EC2, Step Functions, with AWS's throttling) is
// served by this command on a loopback port; the agents reach it over HTTP
// with the real SDK through AWS_ENDPOINT_URL, each signing with its own
// access key id ("nodeprobe-node1", ...) so that the call log tells them
// apart. Each node has its own IMDSv2 endpoint (imdssim), from which its
// agent learns its instance id and so its node name in the cluster config,
// as on EC2.
//
// # Settings
//
// Everything that sets the agent's pace is left at its default: the loop
// and health check interval, the check timeout, the CloudWatch flush
// interval and aggregation (probe.DefaultSettings), the primary lease and
// its renewal and the fast-path detector's check interval (the cluster
// config's defaults, internal/cluster). The output states the values. Only
// what a deployment must say is given: --cluster-config, --pgdata,
// --pg-bindir, --run-as, --dsn (the superuser over the Unix socket, as the
// default DSN), --imds-endpoint and --state-machine-arn (a state machine
// the fast path could start; it does not while the primary is healthy).
// The agents' environment is built from scratch, so no SWITCHYARD_* or
// AWS_* variable of the caller changes a setting. GOGC, GOMEMLIMIT and
// GOMAXPROCS pass through, to measure the agent under them (the output
// names them); without GOMEMLIMIT the agent sets its own default soft
// memory limit (nodeprobe's defaultMemoryLimit), as on a node.
//
// One setting differs from a deployment: --watchdog none. There is no
// /dev/watchdog here, and loading softdog on a shared machine would reset
// it if an agent died. A deployment's agent also opens the device and pets
// it once per loop (an ioctl), which this run does not count.
//
// # What is measured
//
// Once node1's agent holds the primary lease with its WAL position and has
// recorded node2 its eligible synchronous standby, the pair runs for
// -warmup (start-up is not counted); then the call log is emptied and for
// -duration every agent's /proc/<pid>/status (VmRSS, VmHWM) and
// /proc/<pid>/stat (utime+stime, and cutime+cstime of its waited-for
// children) are read every second:
//
//   - rss_mb_median, rss_mb_max: VmRSS over the samples, in MiB (2^20
//     bytes); rss_mb_peak: VmHWM at the end (start-up included), or
//     rss_mb_max when larger (the kernel updates VmHWM lazily, so it can
//     lag a VmRSS read);
//   - cpu_pct_of_core: the agent's own utime+stime over the window as a
//     percentage of one core; cpu_pct_of_core_max_1s: the busiest
//     one-second interval;
//   - children_cpu_pct_of_core: its children's, reported apart: the agent
//     runs `runuser -u postgres -- pg_ctl status` every loop, which a
//     host pays for too.
//
// Calls are counted from the emulator's call log (localaws.Server.Calls)
// over the window, by operation (IAM's names: "dynamodb:GetItem",
// "cloudwatch:PutMetricData") and by caller, and scaled to one hour.
// PutMetricData bodies are read on their way into the emulator for the
// datums and values they carry and the distinct metrics (namespace, name,
// dimensions) they publish. After the window the record must still name
// node1 primary under an unrevoked lease in the same epoch; otherwise the
// run fails, since its figures would include a failover.
//
// What is not counted: PostgreSQL's side of the agent's work (each loop's
// health check and the agent's observation open a new connection, so the
// postmaster forks two backends per second per node), the emulator's own
// CPU, and the instance-profile credential refreshes a real instance makes
// against IMDS.
//
// # Output
//
// A table on stdout and one JSON line per run appended to -out
// (bench/results/overhead.jsonl): duration_s, the settings, agent_build
// (the build command), agent_text_bytes (the binary's read-only loaded
// sections, `size`'s text), runtime_env, the host (cores,
// load averages at the start and end, the whole machine's busy share over
// the window), per node rss_mb_median, rss_mb_max, rss_mb_peak,
// cpu_pct_of_core, children_cpu_pct_of_core and its calls per hour, and
// for the cluster calls_per_hour (operation → calls), calls_per_hour_total,
// errors_per_hour and put_metric_data_datums_per_hour.
//
// On a shared or small machine the CPU figures carry the noise of
// everything else running; the host fields say how busy it was.
package main
