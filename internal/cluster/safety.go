package cluster

import (
	"fmt"
	"time"
)

// Defaults of the primary lease, the one source for the agent, the state
// machine, the template and the protocol model (model/). The timing
// argument behind them is in docs/safety.md.
const (
	// DefaultLeaseSeconds is how long a renewal of the primary lease lets
	// the recorded primary accept writes.
	DefaultLeaseSeconds = 8
	// DefaultRenewSeconds is how often the primary's agent renews.
	DefaultRenewSeconds = 2
	// DefaultClockMarginMs is the clock error allowed between a node and the
	// state machine: a promotion waits this long past the lease's expiry.
	DefaultClockMarginMs = 1000
	// DefaultStopBudgetMs is how long before its lease expires the agent
	// begins an immediate stop of PostgreSQL, so that it is down by expiry.
	DefaultStopBudgetMs = 1000
	// DefaultFailsafeReplySeconds: while it cannot renew, the primary keeps
	// serving only while a standby streaming from it replied within this
	// time (failsafe: a DynamoDB outage alone does not stop a healthy pair).
	DefaultFailsafeReplySeconds = 2
	// DefaultDegradeAfterSeconds is how long the "available" policy waits
	// for a lost synchronous standby before dropping to asynchronous.
	DefaultDegradeAfterSeconds = 5
	// DefaultAsyncMaxLagBytes is the asynchronous promotion limit (the
	// anchors' 1 MiB).
	DefaultAsyncMaxLagBytes = 1 << 20
)

// Replication modes and synchronous policies.
const (
	ReplicationSync  = "sync"
	ReplicationAsync = "async"

	// SyncStrict names the standby always; commits block while it is gone.
	SyncStrict = "strict"
	// SyncAvailable drops to asynchronous after DegradeAfterSeconds without
	// the standby, after first marking it ineligible in the cluster record.
	SyncAvailable = "available"
)

// PrimaryLease configures the recorded primary's right to accept writes.
// All durations are whole seconds except the two margins.
type PrimaryLease struct {
	Seconds      int `json:"seconds"`
	RenewSeconds int `json:"renewSeconds"`
	// ClockMarginMs is added to a lease's expiry before a promotion may
	// rely on it.
	ClockMarginMs int `json:"clockMarginMs"`
	// StopBudgetMs: the agent starts its self-fencing stop this long before
	// expiry.
	StopBudgetMs int `json:"stopBudgetMs"`
	// WatchdogSeconds is the node watchdog's timeout: an agent that does not
	// check in for this long has its PostgreSQL taken down. Default
	// Seconds - RenewSeconds - 1.
	WatchdogSeconds int `json:"watchdogSeconds"`
	// FailsafeReplySeconds: 0 means the default; -1 disables failsafe (the
	// primary stops at lease expiry whatever its standby does).
	FailsafeReplySeconds int `json:"failsafeReplySeconds"`
}

// Replication says how the pair replicates and what a lost synchronous
// standby does to commits.
type Replication struct {
	Mode                string `json:"mode"`       // sync (default) or async
	SyncPolicy          string `json:"syncPolicy"` // strict or available (default)
	DegradeAfterSeconds int    `json:"degradeAfterSeconds"`
}

// DefaultSafety returns a Config holding only the default lease and
// replication settings (for the protocol model and docs, which must use the
// same numbers as the product).
func DefaultSafety() *Config {
	c := &Config{}
	c.applySafetyDefaults()
	return c
}

func (c *Config) applySafetyDefaults() {
	l := &c.Lease
	if l.Seconds == 0 {
		l.Seconds = DefaultLeaseSeconds
	}
	if l.RenewSeconds == 0 {
		l.RenewSeconds = DefaultRenewSeconds
	}
	if l.ClockMarginMs == 0 {
		l.ClockMarginMs = DefaultClockMarginMs
	}
	if l.StopBudgetMs == 0 {
		l.StopBudgetMs = DefaultStopBudgetMs
	}
	if l.WatchdogSeconds == 0 {
		l.WatchdogSeconds = l.Seconds - l.RenewSeconds - 1
	}
	if l.FailsafeReplySeconds == 0 {
		l.FailsafeReplySeconds = DefaultFailsafeReplySeconds
	}
	r := &c.Replication
	if r.Mode == "" {
		r.Mode = ReplicationSync
	}
	if r.SyncPolicy == "" {
		r.SyncPolicy = SyncAvailable
	}
	if r.DegradeAfterSeconds == 0 {
		r.DegradeAfterSeconds = DefaultDegradeAfterSeconds
	}
}

func (c *Config) validateSafety(bad func(string, ...any)) {
	l := c.Lease
	switch {
	case l.Seconds < 2:
		bad("lease.seconds %d: the primary lease lasts at least 2 s", l.Seconds)
	case l.RenewSeconds < 1 || 2*l.RenewSeconds > l.Seconds:
		bad("lease.renewSeconds %d: renew at least every second and at least twice per lease (lease.seconds %d)", l.RenewSeconds, l.Seconds)
	case l.WatchdogSeconds < 1 || l.WatchdogSeconds > l.Seconds-l.RenewSeconds-1:
		bad("lease.watchdogSeconds %d: must be 1 to lease.seconds - lease.renewSeconds - 1 (%d), so the watchdog fires before the lease can expire",
			l.WatchdogSeconds, l.Seconds-l.RenewSeconds-1)
	}
	if l.ClockMarginMs < 0 || l.StopBudgetMs < 0 || l.StopBudgetMs >= l.Seconds*1000 {
		bad("lease.clockMarginMs and lease.stopBudgetMs must not be negative, and the stop budget must be shorter than the lease")
	}
	if l.FailsafeReplySeconds < -1 {
		bad("lease.failsafeReplySeconds %d: -1 disables failsafe; otherwise a positive number of seconds", l.FailsafeReplySeconds)
	}
	r := c.Replication
	if r.Mode != ReplicationSync && r.Mode != ReplicationAsync {
		bad("replication.mode %q is not %q or %q", r.Mode, ReplicationSync, ReplicationAsync)
	}
	if r.SyncPolicy != SyncStrict && r.SyncPolicy != SyncAvailable {
		bad("replication.syncPolicy %q is not %q or %q", r.SyncPolicy, SyncStrict, SyncAvailable)
	}
	if r.DegradeAfterSeconds < 1 {
		bad("replication.degradeAfterSeconds %d must be at least 1", r.DegradeAfterSeconds)
	}
}

// LeaseDuration is how long one renewal of the primary lease lasts.
func (c *Config) LeaseDuration() time.Duration { return time.Duration(c.Lease.Seconds) * time.Second }

// RenewInterval is how often the primary's agent renews its lease.
func (c *Config) RenewInterval() time.Duration {
	return time.Duration(c.Lease.RenewSeconds) * time.Second
}

// ClockMargin is the clock error a promotion allows for.
func (c *Config) ClockMargin() time.Duration {
	return time.Duration(c.Lease.ClockMarginMs) * time.Millisecond
}

// StopBudget is how long before expiry the agent starts to stop.
func (c *Config) StopBudget() time.Duration {
	return time.Duration(c.Lease.StopBudgetMs) * time.Millisecond
}

// WatchdogTimeout is the node watchdog's timeout.
func (c *Config) WatchdogTimeout() time.Duration {
	return time.Duration(c.Lease.WatchdogSeconds) * time.Second
}

// FailsafeReply is the standby reply age up to which a primary that cannot
// renew keeps serving; 0 when failsafe is off.
func (c *Config) FailsafeReply() time.Duration {
	if c.Lease.FailsafeReplySeconds < 0 {
		return 0
	}
	return time.Duration(c.Lease.FailsafeReplySeconds) * time.Second
}

// DegradeAfter is how long the available policy waits before async.
func (c *Config) DegradeAfter() time.Duration {
	return time.Duration(c.Replication.DegradeAfterSeconds) * time.Second
}

// Synchronous reports whether the pair replicates synchronously.
func (c *Config) Synchronous() bool { return c.Replication.Mode == ReplicationSync }

// EarliestPromotion is the first instant at which a standby may be promoted
// on the strength of a primary lease that expires at expires: the expiry
// plus the clock margin.
func (c *Config) EarliestPromotion(expires time.Time) time.Time {
	return expires.Add(c.ClockMargin())
}

// DetachedHold is how long after its standby detached a failsafe primary
// may still be writable: the failsafe window, one agent loop (1 s) to
// notice, and the watchdog of an agent that hung right after checking in.
func (c *Config) DetachedHold() time.Duration {
	return c.FailsafeReply() + time.Second + c.WatchdogTimeout()
}

// SelfFenceAt is when the primary's agent, unable to renew, starts its
// immediate stop: StopBudget before expires.
func (c *Config) SelfFenceAt(expires time.Time) time.Time {
	return expires.Add(-c.StopBudget())
}

// TimingSummary states the lease arithmetic in one line (for logs, status
// and docs).
func (c *Config) TimingSummary() string {
	return fmt.Sprintf("lease %ds renewed every %ds; watchdog %ds; self-fence %s before expiry; promotion %s after expiry",
		c.Lease.Seconds, c.Lease.RenewSeconds, c.Lease.WatchdogSeconds, c.StopBudget(), c.ClockMargin())
}
