package probe

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is everything the probe needs to run, after flags, environment
// and config file have been merged (see Settings).
type Config struct {
	// Cluster and Node name this probe in metrics and logs; Node is the
	// node's name in the cluster configuration.
	Cluster string
	Node    string
	// DSN reaches the local PostgreSQL.
	DSN string
	// Interval between health checks; CheckTimeout bounds one check
	// (connect included).
	Interval     time.Duration
	CheckTimeout time.Duration
	// Recovery is the local recovery policy; RestartCommand (argv) is run
	// to restart PostgreSQL, each run bounded by RestartTimeout. An empty
	// RestartCommand disables local recovery.
	Recovery       RecoveryPolicy
	RestartCommand []string
	RestartTimeout time.Duration
	// Publish configures the CloudWatch publisher.
	Publish PublisherConfig
	// Identity is where the probe runs (logged; used to find Node).
	Identity Identity
}

// Validate names every problem in the configuration.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Cluster == "" {
		bad("cluster name is empty")
	}
	if c.Node == "" {
		bad("node name is empty (set it, or give the cluster config so it can be found by instance id)")
	}
	if c.DSN == "" {
		bad("dsn is empty")
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			bad("%s must be positive, got %s", name, d)
		}
	}
	positive("interval", c.Interval)
	positive("check timeout", c.CheckTimeout)
	positive("flush interval", c.Publish.FlushInterval)
	positive("aggregation bucket", c.Publish.Bucket)
	positive("max backoff", c.Publish.MaxBackoff)
	positive("shutdown timeout", c.Publish.ShutdownTimeout)
	positive("call timeout", c.Publish.CallTimeout)
	if c.Publish.Bucket > 0 && c.Publish.Bucket%time.Second != 0 {
		bad("aggregation bucket must be a whole number of seconds, got %s", c.Publish.Bucket)
	}
	if c.Publish.MaxBuffered <= 0 {
		bad("max buffered samples must be positive, got %d", c.Publish.MaxBuffered)
	}
	if ns := c.Publish.Namespace; ns == "" || len(ns) > 255 || strings.HasPrefix(ns, "AWS/") {
		bad("namespace %q must be 1 to 255 characters and not start with \"AWS/\"", ns)
	}
	if c.Recovery.FailureThreshold < 1 {
		bad("failure threshold must be at least 1, got %d", c.Recovery.FailureThreshold)
	}
	if c.Recovery.MaxRestarts < 0 {
		bad("restart max must not be negative, got %d", c.Recovery.MaxRestarts)
	}
	if len(c.RestartCommand) > 0 && c.Recovery.MaxRestarts > 0 {
		positive("restart window", c.Recovery.Window)
		positive("restart timeout", c.RestartTimeout)
		if c.Recovery.Grace < 0 {
			bad("restart grace must not be negative, got %s", c.Recovery.Grace)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("probe config: %w", errors.Join(errs...))
	}
	return nil
}
