package decide

import (
	"strings"
	"testing"
	"time"
)

// cloudWatchOnly drops the record's evidence: the primary's agent never
// renewed a lease, so only CloudWatch says where the primary was.
func cloudWatchOnly(o *Observation) {
	o.Lease, o.Standby, o.Synchronous = nil, nil, false
}

// async switches the pair to asynchronous replication.
func async(o *Observation) {
	o.Synchronous = false
	o.Lease.SyncStandby = ""
}

// expiredAgo moves the primary's last renewal so its lease expired d ago.
func expiredAgo(o *Observation, d time.Duration) {
	o.Lease.Expires = ago(d)
	o.Lease.Renewed = o.Lease.Expires.Add(-o.LeaseDuration)
}

func TestFreshDataGate(t *testing.T) {
	const degraded = "replication to node2 lost for 5s: dropped to asynchronous (available policy)"
	tests := []struct {
		name     string
		mutate   func(o *Observation)
		decision Decision
		reason   string // substring of the reason
		forced   bool
		atRisk   int64
	}{
		// Synchronous replication: the eligible synchronous standby, holding everything.
		{name: "sync: eligible synchronous standby with everything proceeds", mutate: func(o *Observation) {},
			decision: Proceed, reason: "from node1 to node2", atRisk: 0},
		{name: "sync: standby ahead of the last renewal proceeds", mutate: func(o *Observation) {
			o.Nodes[1].Probe.ReceiveLSN = 5100
		}, decision: Proceed, atRisk: 0},
		{name: "sync: behind by 1 byte", mutate: func(o *Observation) {
			o.Nodes[1].Probe.ReceiveLSN = 4999
		}, decision: Refuse, reason: "1 bytes behind the primary's last published position 0/1388 and may lack acknowledged writes (synchronous replication allows no lag)", atRisk: 1},
		{name: "sync: ineligible, the available policy degraded to async", mutate: func(o *Observation) {
			o.Standby = &StandbyState{Node: "node2", Eligible: false, Reason: degraded, Changed: ago(75 * time.Second)}
		}, decision: Refuse, reason: "node2 is not eligible for promotion: " + degraded, atRisk: 0},
		{name: "sync: ineligible former primary", mutate: func(o *Observation) {
			o.Standby = &StandbyState{Node: "node2", Reason: "former primary (until epoch 3): must rejoin and catch up before it can be promoted"}
		}, decision: Refuse, reason: "former primary (until epoch 3)"},
		{name: "sync: the record never marked the standby", mutate: func(o *Observation) {
			o.Standby = nil
		}, decision: Refuse, reason: "never marked it eligible"},
		{name: "sync: the record's eligibility is about another node", mutate: func(o *Observation) {
			o.Standby.Node = "node3"
		}, decision: Refuse, reason: "is about node3, not node2"},
		{name: "sync: another synchronous standby at the last renewal", mutate: func(o *Observation) {
			o.Lease.SyncStandby = "node3"
		}, decision: Refuse, reason: "node2 was not the synchronous standby at primary node1's last renewal (2026-03-14T09:26:19.000Z): it named node3"},
		{name: "sync: no synchronous standby at the last renewal", mutate: func(o *Observation) {
			o.Lease.SyncStandby = ""
		}, decision: Refuse, reason: "named no synchronous standby"},
		{name: "sync: CloudWatch alone cannot show who was synchronous", mutate: func(o *Observation) {
			o.Lease = nil
		}, decision: Refuse, reason: "no primary lease in the cluster record says which standby was synchronous"},
		{name: "sync: the highest of the two sources counts (CloudWatch ahead)", mutate: func(o *Observation) {
			o.LastPrimaryLSN = 5300
		}, decision: Refuse, reason: "300 bytes behind", atRisk: 300},
		{name: "sync: the highest of the two sources counts (record ahead)", mutate: func(o *Observation) {
			o.Lease.LSN = 5200
		}, decision: Refuse, reason: "200 bytes behind", atRisk: 200},

		// Asynchronous replication: the lag limit.
		{name: "async: within the limit", mutate: func(o *Observation) {
			async(o)
			o.Nodes[1].Probe.ReceiveLSN, o.Lease.LSN, o.LastPrimaryLSN = 1000, 1000+1<<20, 1000
		}, decision: Proceed, atRisk: 1 << 20},
		{name: "async: over the limit by 1 byte", mutate: func(o *Observation) {
			async(o)
			o.Nodes[1].Probe.ReceiveLSN, o.Lease.LSN = 1000, 1001+1<<20
		}, decision: Refuse, reason: "1048577 bytes behind the last known primary position, more than the limit of 1048576", atRisk: 1<<20 + 1},
		{name: "async: an ineligible mark is noted, the lag limit decides", mutate: func(o *Observation) {
			async(o)
			o.Standby.Eligible, o.Standby.Reason = false, "lagging"
		}, decision: Proceed, atRisk: 0},
		{name: "async: CloudWatch alone within its bound", mutate: func(o *Observation) {
			cloudWatchOnly(o)
		}, decision: Proceed, atRisk: 0},

		// Missing evidence.
		{name: "missing: no lease, no PrimaryLSN", mutate: func(o *Observation) {
			cloudWatchOnly(o)
			o.LSNKnown = false
		}, decision: Refuse, reason: "missing evidence: no record of primary node1's last WAL position: no primary lease for node1", atRisk: -1},
		{name: "missing: lease without a position, no PrimaryLSN", mutate: func(o *Observation) {
			o.Lease.LSN, o.LSNKnown = 0, false
		}, decision: Refuse, reason: "carries no WAL position", atRisk: -1},
		{name: "missing: lease of another node, no PrimaryLSN", mutate: func(o *Observation) {
			o.Lease.Node, o.LSNKnown = "node2", false
		}, decision: Refuse, reason: "the primary lease belongs to node2, not to the recorded primary node1", atRisk: -1},
		{name: "missing: nothing at all, heartbeats gone too", mutate: func(o *Observation) {
			cloudWatchOnly(o)
			o.LSNKnown, o.HeartbeatKnown = false, false
		}, decision: Refuse, reason: "missing evidence", atRisk: -1},

		// Stale evidence.
		{name: "stale: healthy heartbeat after the lease expired", mutate: func(o *Observation) {
			expiredAgo(o, 60*time.Second)
			o.PrimaryHeartbeatAge = 20 * time.Second
		}, decision: Refuse, reason: "stale evidence: primary node1 was seen alive at 2026-03-14T09:26:40.000Z (a healthy heartbeat in CloudWatch), 39s after its primary lease expired at 2026-03-14T09:26:00.000Z plus the 1s clock margin", atRisk: -1},
		{name: "stale: standby received WAL after the lease expired", mutate: func(o *Observation) {
			expiredAgo(o, 5*time.Minute)
			o.HeartbeatKnown, o.LSNKnown = false, false
			o.Nodes[1].Probe.Streaming, o.Nodes[1].Probe.LastMessageAge = true, 45*time.Second
		}, decision: Refuse, reason: "standby node2 received WAL from it", atRisk: -1},
		{name: "stale: heartbeat exactly at expiry plus the margin is not after it", mutate: func(o *Observation) {
			expiredAgo(o, 41*time.Second)
		}, decision: Proceed, atRisk: 0},
		{name: "stale: heartbeat within the clock margin after expiry is not after it", mutate: func(o *Observation) {
			expiredAgo(o, 40*time.Second+500*time.Millisecond)
		}, decision: Proceed, atRisk: 0},
		{name: "stale: heartbeat and LSN both 14 minutes old, no lease", mutate: func(o *Observation) {
			cloudWatchOnly(o)
			o.PrimaryHeartbeatAge, o.LSNAge = 14*time.Minute, 14*time.Minute
		}, decision: Refuse, reason: "stale evidence: the only evidence is CloudWatch's and it is too old: primary node1's last PrimaryLSN is 14m0s old and its last healthy heartbeat is 14m0s old, beyond the 1m0s bound", atRisk: -1},
		{name: "stale: LSN 14 minutes old and no heartbeat at all, no lease", mutate: func(o *Observation) {
			cloudWatchOnly(o)
			o.HeartbeatKnown, o.LSNAge = false, 14*time.Minute
		}, decision: Refuse, reason: "last healthy heartbeat is missing", atRisk: -1},
		{name: "stale: LSN older than the heartbeat by more than the stale limit, no lease", mutate: func(o *Observation) {
			cloudWatchOnly(o)
			o.LSNAge = 71 * time.Second
		}, decision: Refuse, reason: "31s after it last published its WAL position to CloudWatch (1m11s ago), more than the 30s stale limit", atRisk: -1},
		{name: "lease 14 minutes expired, nothing seen since: fresh by construction", mutate: func(o *Observation) {
			expiredAgo(o, 14*time.Minute)
			o.PrimaryHeartbeatAge, o.LSNAge = 14*time.Minute, 14*time.Minute
		}, decision: Proceed, atRisk: 0},

		// Force: proceeds, audited with the bytes at risk.
		{name: "force: async over the limit", mutate: func(o *Observation) {
			async(o)
			o.Force = true
			o.Nodes[1].Probe.ReceiveLSN, o.Lease.LSN = 1000, 1000+2<<20
		}, decision: Proceed, forced: true, reason: "(forced; bytes at risk: 2097152)", atRisk: 2 << 20},
		{name: "force: sync standby ineligible", mutate: func(o *Observation) {
			o.Force = true
			o.Standby.Eligible, o.Standby.Reason = false, degraded
		}, decision: Proceed, forced: true, reason: "(forced; bytes at risk: 0)", atRisk: 0},
		{name: "force: stale evidence, bytes at risk unknown", mutate: func(o *Observation) {
			o.Force = true
			expiredAgo(o, 60*time.Second)
			o.PrimaryHeartbeatAge = 20 * time.Second
		}, decision: Proceed, forced: true, reason: "(forced; bytes at risk: unknown)", atRisk: -1},
		{name: "force: missing evidence, bytes at risk unknown", mutate: func(o *Observation) {
			o.Force = true
			cloudWatchOnly(o)
			o.LSNKnown = false
		}, decision: Proceed, forced: true, reason: "(forced; bytes at risk: unknown)", atRisk: -1},
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
			if (tt.decision == Refuse || tt.forced) && !hasPrefix(v.Evidence, "fresh-data gate: ") {
				t.Errorf("evidence does not list the gate's finding: %q", v.Evidence)
			}
			if v.BytesAtRisk != tt.atRisk {
				t.Errorf("bytes at risk = %d, want %d", v.BytesAtRisk, tt.atRisk)
			}
		})
	}
}

func hasPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
