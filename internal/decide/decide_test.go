package decide

import (
	"strings"
	"testing"
	"time"
)

// now is the instant every test observation is made at.
var now = time.Date(2026, 3, 14, 9, 27, 0, 0, time.UTC)

// ago is the instant d before now.
func ago(d time.Duration) time.Time { return now.Add(-d) }

// lostPrimary is the observation of a real loss under synchronous
// replication: the alarm fired, the primary's PostgreSQL is unreachable,
// its lease expired 33 s ago (last renewal at LSN 5000 naming node2 as the
// synchronous standby), nothing saw it alive since, and node2 is the
// eligible standby, its WAL stream lost, holding everything up to 5000.
func lostPrimary() Observation {
	return Observation{
		Trigger:       "alarm",
		RecordPrimary: "node1",
		Nodes: []Node{
			{Name: "node1", InstanceState: "running", Probe: Probe{Error: "connection refused"}},
			{Name: "node2", InstanceState: "running", Probe: Probe{Reachable: true, InRecovery: true, ReceiveLSN: 5000}},
		},
		Now:            now,
		Lease:          &PrimaryLease{Node: "node1", LSN: 5000, Renewed: ago(41 * time.Second), Expires: ago(33 * time.Second), SyncStandby: "node2"},
		Standby:        &StandbyState{Node: "node2", Eligible: true, Changed: ago(time.Hour)},
		HeartbeatKnown: true, PrimaryHeartbeatAge: 40 * time.Second,
		LSNKnown: true, LastPrimaryLSN: 5000, LSNAge: 41 * time.Second,
		Synchronous: true, LeaseDuration: 8 * time.Second, ClockMargin: time.Second,
		MaxEvidenceAge: time.Minute, StaleAfter: 30 * time.Second, MaxLagBytes: 1 << 20,
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(o *Observation)
		decision Decision
		reason   string // substring of the reason
		forced   bool
	}{
		{name: "real loss proceeds", mutate: func(o *Observation) {}, decision: Proceed, reason: "from node1 to node2"},
		{name: "monitoring path broken: alarm but primary answers the direct probe", mutate: func(o *Observation) {
			o.Nodes[0].Probe = Probe{Reachable: true, InRecovery: false, ReceiveLSN: 5000}
		}, decision: NoAction, reason: "direct probe"},
		{name: "probe path broken but standby still streams from the primary", mutate: func(o *Observation) {
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, time.Second
		}, decision: NoAction, reason: "still streams"},
		{name: "stale stream is not evidence of life", mutate: func(o *Observation) {
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, time.Minute
		}, decision: Proceed},
		{name: "fast path and a failed direct probe are two signals", mutate: func(o *Observation) {
			o.Trigger = "fast-path"
			o.Nodes[0].Probe = Probe{Reachable: false, Error: "timeout"}
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, time.Minute
			o.HeartbeatKnown, o.PrimaryHeartbeatAge, o.LSNAge = true, time.Second, time.Second
			o.Lease.Renewed, o.Lease.Expires = ago(2*time.Second), now.Add(6*time.Second)
		}, decision: Proceed},
		{name: "a stream quiet for longer than the fast path's silent limit is not evidence of life", mutate: func(o *Observation) {
			o.StreamSilentAfter = 2 * time.Second
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, 3*time.Second
			o.Lease.Renewed, o.Lease.Expires = ago(4*time.Second), now.Add(4*time.Second)
		}, decision: Proceed},
		{name: "a stream heard within the silent limit is", mutate: func(o *Observation) {
			o.StreamSilentAfter = 2 * time.Second
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, time.Second
		}, decision: NoAction, reason: "still streams"},
		{name: "fast path does not corroborate itself with the same WAL receiver", mutate: func(o *Observation) {
			// The direct probe reaches node1 (in recovery: neither alive as
			// a primary nor lost) and its heartbeats are fresh: the only
			// other sign is the standby's own broken WAL stream, which is
			// what the fast path reported in the first place.
			o.Trigger = "fast-path"
			o.Nodes[0].Probe = Probe{Reachable: true, InRecovery: true}
			o.HeartbeatKnown, o.PrimaryHeartbeatAge, o.LSNAge = true, time.Second, time.Second
			o.Lease.Renewed, o.Lease.Expires = ago(2*time.Second), now.Add(6*time.Second)
		}, decision: NoAction, reason: "only 1 independent observation"},
		{name: "reachability alarm does not corroborate itself with the same WAL receiver", mutate: func(o *Observation) {
			// The reachability alarm is made of what the standby's
			// detector publishes: its broken stream is not a second sign.
			o.Trigger = "reachability-alarm"
			o.Nodes[0].Probe = Probe{Reachable: true, InRecovery: true}
			o.HeartbeatKnown, o.PrimaryHeartbeatAge, o.LSNAge = true, time.Second, time.Second
			o.Lease.Renewed, o.Lease.Expires = ago(2*time.Second), now.Add(6*time.Second)
		}, decision: NoAction, reason: "only 1 independent observation"},
		{name: "reachability alarm and stale heartbeats are two signals", mutate: func(o *Observation) {
			// Unlike the heartbeat alarm, it is not made of heartbeats.
			o.Trigger = "reachability-alarm"
			o.Nodes[0].Probe = Probe{Reachable: true, InRecovery: true}
		}, decision: Proceed},
		{name: "alarm alone with nothing else confirming", mutate: func(o *Observation) {
			o.Trigger = ""
			o.Nodes[0].Probe = Probe{Reachable: false, Error: "timeout"}
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, time.Minute
			o.HeartbeatKnown, o.PrimaryHeartbeatAge, o.LSNAge = true, time.Second, time.Second
		}, decision: NoAction, reason: "only 1 independent observation"},
		{name: "standby unreachable", mutate: func(o *Observation) {
			o.Nodes[1].Probe = Probe{Error: "no route"}
		}, decision: Refuse, reason: "no healthy standby"},
		{name: "candidate not in recovery would be a second primary", mutate: func(o *Observation) {
			o.Nodes[1].Probe.InRecovery = false
		}, decision: Refuse, reason: "not in recovery"},
		{name: "candidate instance stopped", mutate: func(o *Observation) {
			o.Nodes[1].InstanceState = "stopped"
		}, decision: Refuse, reason: "instance is stopped"},
		{name: "standby too far behind", mutate: func(o *Observation) {
			o.Nodes[1].Probe.ReceiveLSN = 1000
			o.LastPrimaryLSN = 1000 + 2<<20
		}, decision: Refuse, reason: "bytes behind"},
		{name: "standby too far behind, forced", mutate: func(o *Observation) {
			o.Nodes[1].Probe.ReceiveLSN = 1000
			o.LastPrimaryLSN = 1000 + 2<<20
			o.Force = true
		}, decision: Proceed, forced: true},
		{name: "no evidence of the primary's position", mutate: func(o *Observation) {
			o.Lease, o.LSNKnown = nil, false
		}, decision: Refuse, reason: "missing evidence"},
		{name: "CloudWatch position much older than the last heartbeat, no lease", mutate: func(o *Observation) {
			o.Lease, o.Synchronous = nil, false
			o.LSNAge = 10 * time.Minute
		}, decision: Refuse, reason: "stale evidence"},
		{name: "CloudWatch position much older than the last heartbeat, lease bounds it", mutate: func(o *Observation) {
			o.LSNAge = 10 * time.Minute
		}, decision: Proceed},
		{name: "target is the primary", mutate: func(o *Observation) {
			o.Target = "node1"
		}, decision: Refuse, reason: "already the primary"},
		{name: "record names an unknown primary", mutate: func(o *Observation) {
			o.RecordPrimary = "node9"
		}, decision: Refuse, reason: "not a node"},
		{name: "forced over a live primary", mutate: func(o *Observation) {
			o.Nodes[0].Probe = Probe{Reachable: true}
			o.Force = true
		}, decision: Proceed, forced: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := lostPrimary()
			tt.mutate(&o)
			v := Decide(o)
			if v.Decision != tt.decision {
				t.Fatalf("decision = %s (%s), want %s; evidence %q", v.Decision, v.Reason, tt.decision, v.Evidence)
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", v.Reason, tt.reason)
			}
			if v.Forced != tt.forced {
				t.Errorf("forced = %v, want %v", v.Forced, tt.forced)
			}
			if v.Decision == Proceed && (v.OldPrimary != "node1" || v.NewPrimary != "node2") {
				t.Errorf("old/new = %s/%s", v.OldPrimary, v.NewPrimary)
			}
		})
	}
}

func TestDecideReportsLag(t *testing.T) {
	o := lostPrimary()
	o.Nodes[1].Probe.ReceiveLSN = 4000
	v := Decide(o)
	if v.LagBytes != 1000 {
		t.Fatalf("lag = %d, want 1000", v.LagBytes)
	}
	o.Nodes[1].Probe.ReceiveLSN = 6000 // ahead of the last published position
	if v := Decide(o); v.LagBytes != 0 {
		t.Fatalf("lag = %d, want 0", v.LagBytes)
	}
}
