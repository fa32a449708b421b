package decide

import (
	"fmt"
	"time"
)

// Decide applies the rules in order: identify old and new primary, look for
// positive evidence that the primary is alive, count independent loss
// signals, check the candidate, then the fresh data gate.
func Decide(o Observation) Verdict {
	v := Verdict{LagBytes: -1, BytesAtRisk: -1}
	refuse := func(format string, args ...any) Verdict {
		v.Decision, v.Reason = Refuse, fmt.Sprintf(format, args...)
		return v
	}
	if o.RecordPrimary == "" {
		return refuse("the cluster record names no primary")
	}
	oldNode, ok := find(o.Nodes, o.RecordPrimary)
	if !ok {
		return refuse("the cluster record names primary %q, which is not a node of this cluster", o.RecordPrimary)
	}
	v.OldPrimary = oldNode.Name
	newNode, ok := peer(o.Nodes, oldNode.Name)
	if o.Target != "" {
		if o.Target == oldNode.Name {
			return refuse("target %q is already the primary", o.Target)
		}
		newNode, ok = find(o.Nodes, o.Target)
	}
	if !ok {
		return refuse("no standby node to promote")
	}
	v.NewPrimary = newNode.Name
	note := func(format string, args ...any) { v.Evidence = append(v.Evidence, fmt.Sprintf(format, args...)) }

	// Positive evidence that the primary is alive.
	alive := aliveEvidence(o, oldNode, newNode)
	for _, e := range alive {
		note("primary alive: %s", e)
	}
	// Independent observations of loss.
	loss := lossSignals(o, oldNode, newNode)
	for _, e := range loss {
		note("primary lost: %s", e)
	}
	if len(alive) > 0 {
		if !o.Force {
			v.Decision = NoAction
			v.Reason = fmt.Sprintf("primary %s is healthy from a second vantage point (%s)", oldNode.Name, alive[0])
			return v
		}
		v.Forced = true
		note("force: failing over although the primary looks alive")
	}
	if len(loss) < 2 && len(alive) == 0 {
		if !o.Force {
			v.Decision = NoAction
			v.Reason = fmt.Sprintf("only %d independent observation(s) of primary %s's loss; at least 2 are needed", len(loss), oldNode.Name)
			return v
		}
		v.Forced = true
		note("force: proceeding on %d observation(s) of loss", len(loss))
	}

	// The candidate must be a reachable, running standby.
	switch {
	case !newNode.Probe.Reachable:
		return refuse("no healthy standby: %s's PostgreSQL is unreachable (%s)", newNode.Name, newNode.Probe.Error)
	case !newNode.Probe.InRecovery:
		return refuse("%s is not in recovery: it is not a standby; promoting would risk two primaries", newNode.Name)
	case newNode.InstanceState != "" && newNode.InstanceState != "running":
		return refuse("no healthy standby: %s's instance is %s", newNode.Name, newNode.InstanceState)
	}

	// Fresh data gate.
	gate := freshDataGate(o, oldNode, newNode)
	v.Evidence = append(v.Evidence, gate.findings...)
	v.LagBytes, v.BytesAtRisk = gate.lag, gate.atRisk
	if gate.refusal != "" {
		if !o.Force {
			return refuse("%s", gate.refusal)
		}
		v.Forced = true
		note("force: proceeding although %s; bytes at risk: %s", gate.refusal, bytesAtRisk(v.BytesAtRisk))
	}
	v.Decision = Proceed
	v.Reason = fmt.Sprintf("fail over from %s to %s: %d observations of loss", oldNode.Name, newNode.Name, len(loss))
	if v.Forced {
		v.Reason += fmt.Sprintf(" (forced; bytes at risk: %s)", bytesAtRisk(v.BytesAtRisk))
	}
	return v
}

func bytesAtRisk(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d", n)
}

func aliveEvidence(o Observation, oldNode, newNode Node) []string {
	var out []string
	if oldNode.Probe.Reachable && !oldNode.Probe.InRecovery {
		out = append(out, "a direct probe from the VPC finds it accepting connections and out of recovery")
	}
	within := o.StaleAfter
	if o.StreamSilentAfter > 0 && o.StreamSilentAfter < within {
		within = o.StreamSilentAfter
	}
	if newNode.Probe.Reachable && newNode.Probe.Streaming && newNode.Probe.LastMessageAge < within {
		out = append(out, fmt.Sprintf("standby %s still streams WAL from it (last message %s ago)", newNode.Name, newNode.Probe.LastMessageAge.Round(time.Millisecond)))
	}
	return out
}

func lossSignals(o Observation, oldNode, newNode Node) []string {
	var out []string
	switch o.Trigger {
	case "alarm":
		out = append(out, "the heartbeat alarm fired")
	case "fast-path":
		out = append(out, "the standby's detector reported it lost")
	case "reachability-alarm":
		out = append(out, "the reachability alarm fired: the standby could not reach it for a whole alarm period")
	case "manual":
		out = append(out, "an operator requested the failover")
	}
	if !oldNode.Probe.Reachable {
		out = append(out, "a direct probe from the VPC cannot connect: "+oldNode.Probe.Error)
	}
	// The fast path's detector (and the reachability alarm, made of what it
	// publishes) is this same WAL receiver: counting it again would let one
	// observer corroborate itself.
	if newNode.Probe.Reachable && !newNode.Probe.Streaming && o.Trigger != "fast-path" && o.Trigger != "reachability-alarm" {
		out = append(out, fmt.Sprintf("standby %s's WAL receiver is not streaming", newNode.Name))
	}
	if s := oldNode.InstanceState; s != "" && s != "running" {
		out = append(out, "its instance is "+s)
	} else if oldNode.Impaired {
		out = append(out, "its instance status checks fail")
	}
	// Heartbeats count only when no other signal comes from the same
	// monitoring path: the alarm is itself made of heartbeats.
	if o.Trigger != "alarm" {
		if !o.HeartbeatKnown {
			out = append(out, "no heartbeat of it in CloudWatch")
		} else if o.PrimaryHeartbeatAge > o.StaleAfter {
			out = append(out, fmt.Sprintf("its last heartbeat is %s old", o.PrimaryHeartbeatAge.Round(time.Second)))
		}
	}
	return out
}

func find(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

func peer(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name != name {
			return n, true
		}
	}
	return Node{}, false
}
