package decide

import (
	"strings"
	"testing"
	"time"
)

// healthyPair is the observation before a switchover: node1 writable under
// a valid lease, node2 the eligible synchronous standby, streaming, 100
// bytes behind.
func healthyPair() Observation {
	return Observation{
		Trigger: "manual", RecordPrimary: "node1", Now: now, Synchronous: true, MaxLagBytes: 1 << 20,
		Nodes: []Node{
			{Name: "node1", InstanceState: "running", Probe: Probe{Reachable: true, ReceiveLSN: 5100}},
			{Name: "node2", InstanceState: "running", Probe: Probe{Reachable: true, InRecovery: true, Streaming: true, ReceiveLSN: 5000}},
		},
		Lease:   &PrimaryLease{Node: "node1", LSN: 5100, Renewed: ago(time.Second), Expires: now.Add(7 * time.Second)},
		Standby: &StandbyState{Node: "node2", Eligible: true, Changed: ago(time.Hour)},
	}
}

func TestSwitchover(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(o *Observation)
		decision Decision
		reason   string
	}{
		{"healthy pair proceeds", func(o *Observation) {}, Proceed, "switchover from node1 to node2"},
		{"target already primary", func(o *Observation) { o.Target = "node1" }, NoAction, "already is the primary"},
		{"primary unreachable: a failover's job", func(o *Observation) { o.Nodes[0].Probe = Probe{Error: "refused"} }, Refuse, "use a failover"},
		{"primary lease expired", func(o *Observation) { o.Lease.Expires = ago(time.Second) }, Refuse, "no valid lease"},
		{"target not streaming", func(o *Observation) { o.Nodes[1].Probe.Streaming = false }, Refuse, "not streaming"},
		{"target writable", func(o *Observation) { o.Nodes[1].Probe.InRecovery = false }, Refuse, "second primary"},
		{"target instance stopping", func(o *Observation) { o.Nodes[1].InstanceState = "stopping" }, Refuse, "instance is stopping"},
		{"target not the eligible synchronous standby", func(o *Observation) {
			o.Standby.Eligible, o.Standby.Reason = false, "not confirming"
		}, Refuse, "not confirming"},
		{"target far behind", func(o *Observation) { o.Nodes[0].Probe.ReceiveLSN = 5000 + 2<<20 }, Refuse, "let it catch up"},
		{"asynchronous pair needs no eligibility", func(o *Observation) { o.Synchronous, o.Standby = false, nil }, Proceed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := healthyPair()
			tc.mutate(&o)
			v := Switchover(o)
			if v.Decision != tc.decision || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("got %s %q, want %s containing %q", v.Decision, v.Reason, tc.decision, tc.reason)
			}
			if v.Decision == Proceed && (v.OldPrimary != "node1" || v.NewPrimary != "node2" || v.Forced) {
				t.Errorf("proceeds from %s to %s (forced %t)", v.OldPrimary, v.NewPrimary, v.Forced)
			}
		})
	}
}
