package decide

import "fmt"

// Switchover decides a planned handover of the primary role. Unlike a
// failover it needs nothing to be lost and everything to be healthy: the
// recorded primary writable under a valid lease, the target a streaming
// standby in recovery whose instance runs, within MaxLagBytes of the
// primary (so the final catch-up is short) and, under synchronous
// replication, the standby the record marks eligible. Anything less is
// refused with the reason; a target that already is the primary needs no
// action.
func Switchover(o Observation) Verdict {
	v := Verdict{LagBytes: -1, BytesAtRisk: 0}
	refuse := func(format string, args ...any) Verdict {
		v.Decision, v.Reason = Refuse, "switchover refused: "+fmt.Sprintf(format, args...)
		return v
	}
	oldNode, ok := find(o.Nodes, o.RecordPrimary)
	if o.RecordPrimary == "" || !ok {
		return refuse("the cluster record names no primary of this cluster (%q)", o.RecordPrimary)
	}
	v.OldPrimary = oldNode.Name
	newNode, ok := peer(o.Nodes, oldNode.Name)
	if o.Target != "" {
		if o.Target == oldNode.Name {
			v.Decision, v.Reason = NoAction, fmt.Sprintf("%s already is the primary", o.Target)
			return v
		}
		newNode, ok = find(o.Nodes, o.Target)
	}
	if !ok {
		return refuse("no standby to hand over to")
	}
	v.NewPrimary = newNode.Name
	switch {
	case !oldNode.Probe.Reachable:
		return refuse("primary %s does not answer (%s); use a failover", oldNode.Name, oldNode.Probe.Error)
	case oldNode.Probe.InRecovery:
		return refuse("primary %s is in recovery", oldNode.Name)
	case o.Lease == nil || o.Lease.Node != oldNode.Name || !o.Now.Before(o.Lease.Expires):
		return refuse("primary %s holds no valid lease; use a failover", oldNode.Name)
	case newNode.InstanceState != "" && newNode.InstanceState != "running":
		return refuse("target %s's instance is %s", newNode.Name, newNode.InstanceState)
	case !newNode.Probe.Reachable:
		return refuse("target %s does not answer (%s)", newNode.Name, newNode.Probe.Error)
	case !newNode.Probe.InRecovery:
		return refuse("target %s is not in recovery: it would be a second primary", newNode.Name)
	case !newNode.Probe.Streaming:
		return refuse("target %s is not streaming from %s", newNode.Name, oldNode.Name)
	case o.Synchronous && (o.Standby == nil || o.Standby.Node != newNode.Name || !o.Standby.Eligible):
		reason := "never marked eligible"
		if o.Standby != nil && o.Standby.Node == newNode.Name {
			reason = o.Standby.Reason
		}
		return refuse("target %s is not the eligible synchronous standby (%s)", newNode.Name, reason)
	}
	if oldNode.Probe.ReceiveLSN >= newNode.Probe.ReceiveLSN {
		v.LagBytes = int64(oldNode.Probe.ReceiveLSN - newNode.Probe.ReceiveLSN)
	} else {
		v.LagBytes = 0
	}
	if v.LagBytes > o.MaxLagBytes {
		return refuse("target %s is %d bytes behind (limit %d): let it catch up first", newNode.Name, v.LagBytes, o.MaxLagBytes)
	}
	v.Decision = Proceed
	v.Reason = fmt.Sprintf("switchover from %s to %s: %s streams %d bytes behind; %s stops cleanly and %s is promoted once it has every WAL record",
		oldNode.Name, newNode.Name, newNode.Name, v.LagBytes, oldNode.Name, newNode.Name)
	return v
}
