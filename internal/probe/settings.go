package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/switchyard/switchyard/internal/cluster"
)

// EnvPrefix prefixes the environment variable of every setting:
// --flush-interval is SWITCHYARD_FLUSH_INTERVAL.
const EnvPrefix = "SWITCHYARD_"

// Settings is the probe's configuration as an operator writes it. Every
// setting is a flag, an environment variable (EnvName) and a key of the
// JSON config file (JSONKey); flags beat the environment, which beats the
// file, which beats the defaults. All three go through the same parser.
type Settings struct {
	ConfigFile    string
	ClusterConfig string

	Cluster, Node, DSN, Namespace string

	Interval, CheckTimeout time.Duration
	FailureThreshold       int

	RestartCommand                              string
	RestartMax                                  int
	RestartWindow, RestartGrace, RestartTimeout time.Duration

	FlushInterval, Bucket, MaxBackoff, CallTimeout, ShutdownTimeout time.Duration
	MaxBuffered                                                     int

	InstanceID, AvailabilityZone, PrivateIP string
	IMDS                                    bool
	IMDSEndpoint                            string
	IMDSTimeout                             time.Duration

	LogLevel string

	// The agent part (package agent): it owns PostgreSQL unless
	// MonitorOnly.
	MonitorOnly bool
	PGData      string
	PGBinDir    string
	PGLog       string
	AdminDSN    string
	RunAs       string
	RejoinDSN   string
	Watchdog    string
	// StateMachineARN is the failover state machine the standby's fast
	// path starts; empty turns the fast path off (the alarm remains).
	StateMachineARN string
}

// DefaultSettings are the values used when nothing else is said.
func DefaultSettings() Settings {
	return Settings{
		DSN:              "host=/var/run/postgresql port=5432 dbname=postgres user=postgres",
		Namespace:        "Switchyard",
		Interval:         time.Second,
		CheckTimeout:     3 * time.Second,
		FailureThreshold: 2,
		RestartMax:       2,
		RestartWindow:    10 * time.Minute,
		RestartGrace:     10 * time.Second,
		RestartTimeout:   time.Minute,
		FlushInterval:    DefaultFlushInterval,
		Bucket:           time.Second,
		MaxBackoff:       time.Minute,
		CallTimeout:      10 * time.Second,
		ShutdownTimeout:  5 * time.Second,
		MaxBuffered:      10000,
		IMDS:             true,
		IMDSTimeout:      2 * time.Second,
		LogLevel:         "info",
		PGBinDir:         "/usr/lib/postgresql/15/bin",
		RejoinDSN:        "user=postgres dbname=postgres",
		Watchdog:         "/dev/watchdog",
	}
}

// BindFlags registers every setting on fs, with its help text and the
// environment variable that can set it.
func (s *Settings) BindFlags(fs *pflag.FlagSet) {
	str := func(p *string, name, help string) { fs.StringVar(p, name, *p, help+envNote(name)) }
	dur := func(p *time.Duration, name, help string) { fs.DurationVar(p, name, *p, help+envNote(name)) }
	num := func(p *int, name, help string) { fs.IntVar(p, name, *p, help+envNote(name)) }

	str(&s.ConfigFile, "config-file", "JSON file of settings; keys are the flag names in camelCase (\"flushInterval\": \"5s\")")
	str(&s.ClusterConfig, "cluster-config", "cluster configuration JSON; gives the cluster name, the namespace and this node's name (found by instance id) unless set")
	str(&s.Cluster, "cluster", "cluster name (metric dimension Cluster); required")
	str(&s.Node, "node", "this node's name in the cluster configuration (metric dimension Node); required unless found via --cluster-config")
	str(&s.DSN, "dsn", "connection string of the local PostgreSQL (libpq URL or key=value)")
	str(&s.Namespace, "namespace", "CloudWatch namespace of the metrics")
	dur(&s.Interval, "interval", "time between health checks")
	dur(&s.CheckTimeout, "check-timeout", "bound on one health check, connecting included")
	num(&s.FailureThreshold, "failure-threshold", "consecutive failed checks that confirm a failure")
	str(&s.RestartCommand, "restart-command", "shell command (run with /bin/sh -c) that restarts PostgreSQL for local recovery; empty disables local recovery")
	num(&s.RestartMax, "restart-max", "restarts allowed within --restart-window before the node is reported unhealthy")
	dur(&s.RestartWindow, "restart-window", "sliding window in which --restart-max restarts are allowed")
	dur(&s.RestartGrace, "restart-grace", "after a restart, how long failed checks are taken for PostgreSQL still starting")
	dur(&s.RestartTimeout, "restart-timeout", "bound on one run of the restart command")
	dur(&s.FlushInterval, "flush-interval", "how often buffered samples are sent to CloudWatch when nothing is wrong (one billed PutMetricData call per flush): the delay a healthy heartbeat reaches CloudWatch with; keep it at least 10s under the heartbeat alarm's period and under the cluster's heartbeatStaleSeconds (the agent refuses to start otherwise). Bad values (heartbeat 0, primary unreachable, commits waiting, lease running out) are sent within a second")
	dur(&s.Bucket, "aggregate", "samples of one metric within this many seconds are sent as one datum (Values/Counts); 1s keeps full high-resolution timing")
	num(&s.MaxBuffered, "max-buffered", "samples kept while CloudWatch is unreachable; the oldest are dropped beyond it")
	dur(&s.MaxBackoff, "max-backoff", "longest wait between flushes while CloudWatch calls fail")
	dur(&s.CallTimeout, "call-timeout", "bound on one PutMetricData call")
	dur(&s.ShutdownTimeout, "shutdown-timeout", "bound on the final flush at SIGTERM")
	str(&s.InstanceID, "instance-id", "EC2 instance id; read from instance metadata (IMDSv2) when empty")
	str(&s.AvailabilityZone, "availability-zone", "availability zone; read from instance metadata when empty")
	str(&s.PrivateIP, "private-ip", "private IPv4 address; read from instance metadata when empty")
	fs.BoolVar(&s.IMDS, "imds", s.IMDS, "read missing identity from the EC2 instance metadata service (IMDSv2 only)"+envNote("imds"))
	str(&s.IMDSEndpoint, "imds-endpoint", "instance metadata endpoint (default http://169.254.169.254)")
	dur(&s.IMDSTimeout, "imds-timeout", "bound on one instance metadata request")
	str(&s.LogLevel, "log-level", "debug, info, warn or error")
	fs.BoolVar(&s.MonitorOnly, "monitor-only", s.MonitorOnly, "only check and publish; do not own PostgreSQL (no primary lease, no self-fencing: the safety invariant 'the old primary never returns writable' is then not enforced)"+envNote("monitor-only"))
	str(&s.PGData, "pgdata", "PostgreSQL data directory the agent owns (starts, stops, fences); required unless --monitor-only")
	str(&s.PGBinDir, "pg-bindir", "directory of pg_ctl")
	str(&s.PGLog, "pg-log", "server log file for pg_ctl start (empty: PostgreSQL's own logging settings)")
	str(&s.AdminDSN, "admin-dsn", "superuser connection to the local PostgreSQL for synchronous replication settings (default: --dsn)")
	str(&s.RejoinDSN, "rejoin-dsn", "conninfo without host and port with which a former primary's pg_rewind reads the new primary, and which becomes its primary_conninfo: a role with REPLICATION and pg_rewind's function grants (password in ~/.pgpass)")
	str(&s.RunAs, "run-as", "run pg_ctl as this OS user (through runuser) when the agent is not the data directory's owner")
	str(&s.Watchdog, "watchdog", "watchdog device armed while this node is the writable primary (softdog: /dev/watchdog); \"none\" runs without one (then fence with a hard stop; see docs/safety.md)")
	str(&s.StateMachineARN, "state-machine-arn", "the failover state machine (the stack output StateMachineArn): as a standby, the agent starts it the moment it sees the primary lost (the fast path); empty leaves detection to the heartbeat alarm")
}

func envNote(flag string) string { return " [$" + EnvName(flag) + "]" }

// EnvName is the environment variable of a flag.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// JSONKey is the config file key of a flag ("flush-interval" →
// "flushInterval").
func JSONKey(flag string) string {
	parts := strings.Split(flag, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// LoadSettings merges defaults, the config file, the environment and the
// flags the user set on parsed (a flag set bound with BindFlags and
// already parsed). getenv is os.Getenv outside tests.
func LoadSettings(parsed *pflag.FlagSet, getenv func(string) string) (Settings, error) {
	s := DefaultSettings()
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	s.BindFlags(fs)

	path := getenv(EnvName("config-file"))
	if f := parsed.Lookup("config-file"); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		if err := applyFile(fs, path); err != nil {
			return Settings{}, err
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if v := getenv(EnvName(f.Name)); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment variable %s: %w", EnvName(f.Name), e)
			}
		}
	})
	parsed.Visit(func(f *pflag.Flag) {
		if err == nil && fs.Lookup(f.Name) != nil {
			if e := fs.Set(f.Name, f.Value.String()); e != nil {
				err = fmt.Errorf("flag --%s: %w", f.Name, e)
			}
		}
	})
	if err != nil {
		return Settings{}, err
	}
	s.ConfigFile = path
	return s, nil
}

func applyFile(fs *pflag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) { byKey[JSONKey(f.Name)] = f.Name })
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, ok := byKey[k]
		if !ok || name == "config-file" {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		var v string
		switch x := raw[k].(type) {
		case string:
			v = x
		case json.Number:
			v = x.String()
		case bool:
			v = fmt.Sprint(x)
		default:
			return fmt.Errorf("config file %s: %q must be a string, number or boolean", path, k)
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("config file %s: %q: %w", path, k, err)
		}
	}
	return nil
}

// Config turns the settings into a validated Config. id is the resolved
// identity; when Node is empty and a cluster configuration is given, the
// node is the one running on id.InstanceID.
func (s Settings) Config(id Identity) (Config, error) {
	if s.ClusterConfig != "" {
		cc, err := cluster.Load(s.ClusterConfig)
		if err != nil {
			return Config{}, err
		}
		if s.Cluster == "" {
			s.Cluster = cc.Name
		} else if s.Cluster != cc.Name {
			return Config{}, fmt.Errorf("cluster %q does not match the cluster configuration's name %q", s.Cluster, cc.Name)
		}
		if s.Namespace == DefaultSettings().Namespace {
			s.Namespace = cc.Detection.Namespace
		}
		if s.Node == "" {
			n, ok := cc.NodeByInstance(id.InstanceID)
			if !ok {
				return Config{}, fmt.Errorf("instance %q is not a node of cluster %q", id.InstanceID, cc.Name)
			}
			s.Node = n.Name
		}
	}
	var restart []string
	if strings.TrimSpace(s.RestartCommand) != "" {
		restart = []string{"/bin/sh", "-c", s.RestartCommand}
	}
	c := Config{
		Cluster: s.Cluster, Node: s.Node, DSN: s.DSN,
		Interval: s.Interval, CheckTimeout: s.CheckTimeout,
		Recovery: RecoveryPolicy{
			FailureThreshold: s.FailureThreshold, MaxRestarts: s.RestartMax,
			Window: s.RestartWindow, Grace: s.RestartGrace,
		},
		RestartCommand: restart, RestartTimeout: s.RestartTimeout,
		Publish: PublisherConfig{
			Namespace: s.Namespace, FlushInterval: s.FlushInterval, Bucket: s.Bucket,
			MaxBuffered: s.MaxBuffered, MaxBackoff: s.MaxBackoff, CallTimeout: s.CallTimeout,
			ShutdownTimeout: s.ShutdownTimeout,
		},
		Identity: id,
	}
	return c, c.Validate()
}

// ExplicitIdentity is the identity given by settings (possibly partial).
func (s Settings) ExplicitIdentity() Identity {
	return Identity{InstanceID: s.InstanceID, AvailabilityZone: s.AvailabilityZone, PrivateIP: s.PrivateIP}
}
