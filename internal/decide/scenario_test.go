package decide

import (
	"strings"
	"testing"
	"time"
)

// TestReplicationCutThenPrimaryDies is the decision part of issue 6's
// "replication cut, clients cancelling waiting commits, then the primary
// dies": the link to node2 is cut while node1 stays up; commits wait for
// node2, clients cancel them and get "already committed locally", so
// node1's flushed WAL runs 349,496 bytes past what node2 received; 75 s
// later node1 dies. Under both policies, and whatever started the
// failover, Assess refuses without force; with force it proceeds, audited
// with the bytes at risk.
func TestReplicationCutThenPrimaryDies(t *testing.T) {
	const (
		atCut  = 5000   // what node2 had when the link was cut
		behind = 349496 // WAL node1 flushed after the cut
	)
	policies := []struct {
		name   string
		record func(o *Observation)
		reason string
	}{
		{name: "strict", reason: "349496 bytes behind the primary's last published position", record: func(o *Observation) {
			// strict keeps naming node2 and never marks it ineligible.
		}},
		{name: "available", reason: "node2 is not eligible for promotion: replication lost for 5s", record: func(o *Observation) {
			// available marked node2 ineligible 5 s after the cut, then
			// dropped to asynchronous: later renewals name no standby.
			o.Standby = &StandbyState{Node: "node2", Reason: "replication lost for 5s: dropped to asynchronous (available policy)", Changed: ago(110 * time.Second)}
			o.Lease.SyncStandby = ""
		}},
	}
	for _, p := range policies {
		for _, trigger := range []string{"manual", "alarm"} {
			for _, force := range []bool{false, true} {
				name := p.name + "/" + trigger
				if force {
					name += "/forced"
				}
				t.Run(name, func(t *testing.T) {
					o := lostPrimary()
					o.Trigger, o.Force = trigger, force
					// node1 died 40 s ago; its last renewal, just before,
					// published everything it had flushed.
					o.Lease.LSN, o.LastPrimaryLSN = atCut+behind, atCut+behind
					o.Nodes[1].Probe.ReceiveLSN = atCut
					p.record(&o)
					v := Decide(o)
					if v.LagBytes != behind {
						t.Errorf("lag = %d, want %d", v.LagBytes, behind)
					}
					if !force {
						if v.Decision != Refuse || !strings.Contains(v.Reason, p.reason) {
							t.Fatalf("decision = %s (%s), want refuse mentioning %q", v.Decision, v.Reason, p.reason)
						}
						return
					}
					if v.Decision != Proceed || !v.Forced || v.BytesAtRisk != behind {
						t.Fatalf("forced: decision = %s forced=%v bytesAtRisk=%d (%s), want a forced proceed with %d bytes at risk",
							v.Decision, v.Forced, v.BytesAtRisk, v.Reason, behind)
					}
					if !strings.Contains(v.Reason, "bytes at risk: 349496") {
						t.Errorf("forced reason %q does not state the bytes at risk", v.Reason)
					}
				})
			}
		}
	}
}
