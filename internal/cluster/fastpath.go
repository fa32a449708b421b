package cluster

import "time"

// FastPath configures the standby agent's own detector of primary loss,
// which starts the failover itself instead of waiting for the heartbeat
// alarm (the alarm stays as the backstop when the standby's agent is down).
type FastPath struct {
	// Disabled turns the detector off; the alarm alone starts failovers.
	Disabled bool `json:"disabled,omitempty"`
	// CheckIntervalMs is how often the standby checks its WAL receiver and,
	// when it is not streaming, probes the primary directly.
	CheckIntervalMs int `json:"checkIntervalMs,omitempty"`
	// SilentAfterMs: a primary that neither streams WAL nor answers a
	// connection attempt (no refusal either: packets dropped) counts as
	// lost after this long. A primary that refuses connections (its host
	// answers, PostgreSQL is gone) counts as lost at once.
	SilentAfterMs int `json:"silentAfterMs,omitempty"`
	// ProbeTimeoutMs bounds Assess's direct probe of each node from inside
	// the VPC: a node that has not answered by then counts as unreachable.
	// Within one VPC a live PostgreSQL answers in milliseconds; the bound
	// is what a silent (blackholed) primary costs the failover.
	ProbeTimeoutMs int `json:"probeTimeoutMs,omitempty"`
}

// Fast-path defaults: checks four times a second; a silent primary is
// lost after 2 s without WAL or an answer, so the detector costs at most
// one probe per check and a silent loss is seen within 2.25 s.
const (
	DefaultFastPathCheckIntervalMs = 250
	DefaultFastPathSilentAfterMs   = 2000
	DefaultProbeTimeoutMs          = 1000
)

func (c *Config) applyFastPathDefaults() {
	f := &c.Detection.FastPath
	if f.CheckIntervalMs == 0 {
		f.CheckIntervalMs = DefaultFastPathCheckIntervalMs
	}
	if f.SilentAfterMs == 0 {
		f.SilentAfterMs = DefaultFastPathSilentAfterMs
	}
	if f.ProbeTimeoutMs == 0 {
		f.ProbeTimeoutMs = DefaultProbeTimeoutMs
	}
}

func (c *Config) validateFastPath(bad func(string, ...any)) {
	f := c.Detection.FastPath
	if f.CheckIntervalMs < 50 || f.CheckIntervalMs > 10000 {
		bad("detection.fastPath.checkIntervalMs %d is outside 50..10000", f.CheckIntervalMs)
	}
	if f.SilentAfterMs < f.CheckIntervalMs || f.SilentAfterMs > 60000 {
		bad("detection.fastPath.silentAfterMs %d must be between checkIntervalMs (%d) and 60000", f.SilentAfterMs, f.CheckIntervalMs)
	}
	if f.ProbeTimeoutMs < 100 || f.ProbeTimeoutMs > 30000 {
		bad("detection.fastPath.probeTimeoutMs %d is outside 100..30000", f.ProbeTimeoutMs)
	}
	if d := c.Detection; d.ReachabilityAlarmName == d.AlarmName {
		bad("detection.reachabilityAlarmName %q is the heartbeat alarm's name: give it its own, or %q", d.ReachabilityAlarmName, AlarmNone)
	}
}

// FastPathInterval is Detection.FastPath.CheckIntervalMs as a duration.
func (c *Config) FastPathInterval() time.Duration {
	return time.Duration(c.Detection.FastPath.CheckIntervalMs) * time.Millisecond
}

// FastPathSilentAfter is Detection.FastPath.SilentAfterMs as a duration.
func (c *Config) FastPathSilentAfter() time.Duration {
	return time.Duration(c.Detection.FastPath.SilentAfterMs) * time.Millisecond
}

// ProbeTimeout is Detection.FastPath.ProbeTimeoutMs as a duration.
func (c *Config) ProbeTimeout() time.Duration {
	return time.Duration(c.Detection.FastPath.ProbeTimeoutMs) * time.Millisecond
}

// AlarmNone as Detection.ReachabilityAlarmName turns that alarm off.
const AlarmNone = "none"

// Alarms are the names of the CloudWatch alarms whose ALARM transitions
// start a failover: the heartbeat alarm, then the reachability alarm
// unless it is off.
func (d Detection) Alarms() []string {
	out := []string{d.AlarmName}
	if d.ReachabilityAlarmName != AlarmNone && d.ReachabilityAlarmName != "" {
		out = append(out, d.ReachabilityAlarmName)
	}
	return out
}

// IsAlarm reports whether name is one of Alarms.
func (d Detection) IsAlarm(name string) bool {
	for _, a := range d.Alarms() {
		if a == name {
			return true
		}
	}
	return false
}

// IsReachabilityAlarm reports whether name is the reachability alarm: it
// is made of the standby's own view of its WAL stream and probes, so the
// state machine does not count that view again as a second signal.
func (d Detection) IsReachabilityAlarm(name string) bool {
	return name != AlarmNone && name == d.ReachabilityAlarmName
}

// DefaultHeartbeatAlarm and DefaultReachabilityAlarm are the detection
// alarms' names as template.yaml creates them for cluster name.
func DefaultHeartbeatAlarm(name string) string { return "switchyard-" + name + "-primary-heartbeat" }

// DefaultReachabilityAlarm: see DefaultHeartbeatAlarm.
func DefaultReachabilityAlarm(name string) string {
	return "switchyard-" + name + "-primary-unreachable"
}
