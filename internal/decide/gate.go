package decide

import (
	"fmt"
	"time"
)

// gateResult is what the fresh-data gate found about the candidate.
type gateResult struct {
	findings []string // evidence, in the order the rules ran
	refusal  string   // why the candidate fails the gate; "" when it passes
	lag      int64    // bytes behind the last known position; -1 unknown
	atRisk   int64    // lag when the position is trustworthy; -1 otherwise
}

func (g *gateResult) note(format string, args ...any) {
	g.findings = append(g.findings, fmt.Sprintf(format, args...))
}

// fail records a rule the candidate breaks; the first one is the reason.
func (g *gateResult) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	g.findings = append(g.findings, "fresh-data gate: "+msg)
	if g.refusal == "" {
		g.refusal = msg
	}
}

// freshDataGate decides whether promoting newNode could lose data
// (invariant 3). Every rule runs, so the evidence lists all findings; the
// first rule broken is the refusal:
//
//  1. missing: no position of the primary in the record's lease or in
//     CloudWatch;
//  2. stale: the primary was seen alive after its evidence stopped bounding
//     what it wrote (staleness);
//  3. synchronous replication: the candidate is the standby the record
//     marks eligible, was the synchronous standby at the last renewal, and
//     holds everything the primary published (zero lag);
//  4. asynchronous replication: the lag is within MaxLagBytes.
func freshDataGate(o Observation, oldNode, newNode Node) gateResult {
	g := gateResult{lag: -1, atRisk: -1}
	lease, leaseWhy := recordLease(o)
	if lease == nil {
		g.note("cluster record: %s", leaseWhy)
	}
	if lease == nil && !o.LSNKnown {
		g.fail("missing evidence: no record of primary %s's last WAL position: %s, and CloudWatch has no PrimaryLSN for it",
			oldNode.Name, leaseWhy)
		return g
	}
	last := o.LastPrimaryLSN
	if lease != nil {
		g.note("cluster record: primary %s published WAL position %s with its lease renewal at %s (lease expires at %s)",
			lease.Node, lsn(lease.LSN), stamp(lease.Renewed), stamp(lease.Expires))
		last = max(last, lease.LSN)
	}
	if o.LSNKnown {
		g.note("CloudWatch: primary %s published WAL position %s %s ago", oldNode.Name, lsn(o.LastPrimaryLSN), o.LSNAge.Round(time.Second))
	}
	stale := staleness(o, lease, oldNode, newNode, last, &g)

	g.lag = 0
	if last > newNode.Probe.ReceiveLSN {
		g.lag = int64(last - newNode.Probe.ReceiveLSN)
	}
	if !stale {
		g.atRisk = g.lag
	}
	g.note("candidate %s has received and flushed %s, %d bytes behind the primary's last known position %s",
		newNode.Name, lsn(newNode.Probe.ReceiveLSN), g.lag, lsn(last))
	if o.Synchronous {
		syncRules(o, lease, newNode, last, &g)
		return g
	}
	if st := o.Standby; st != nil && st.Node == newNode.Name && !st.Eligible {
		g.note("the cluster record marks %s not eligible (%s); asynchronous replication relies on the lag limit alone", newNode.Name, orUnknown(st.Reason))
	}
	if g.lag > o.MaxLagBytes {
		g.fail("standby %s is %d bytes behind the last known primary position, more than the limit of %d (asynchronous replication)",
			newNode.Name, g.lag, o.MaxLagBytes)
	}
	return g
}

// syncRules: under synchronous replication only the standby that the
// primary held to every commit may be promoted, and only with nothing
// missing.
func syncRules(o Observation, lease *PrimaryLease, newNode Node, last uint64, g *gateResult) {
	switch st := o.Standby; {
	case st == nil:
		g.fail("synchronous replication: the cluster record has no eligibility for %s: the primary's agent never marked it eligible", newNode.Name)
	case st.Node != newNode.Name:
		g.fail("synchronous replication: the cluster record's standby eligibility is about %s, not %s", st.Node, newNode.Name)
	case !st.Eligible:
		g.fail("synchronous replication: %s is not eligible for promotion: %s (marked at %s)", newNode.Name, orUnknown(st.Reason), stamp(st.Changed))
	default:
		g.note("cluster record: %s is eligible for promotion (since %s)", newNode.Name, stamp(st.Changed))
	}
	switch {
	case lease == nil:
		g.fail("synchronous replication: no primary lease in the cluster record says which standby was synchronous, so %s cannot be shown to hold every acknowledged write", newNode.Name)
	case lease.SyncStandby == "":
		g.fail("synchronous replication: primary %s named no synchronous standby at its last renewal (%s): it was committing asynchronously", lease.Node, stamp(lease.Renewed))
	case lease.SyncStandby != newNode.Name:
		g.fail("synchronous replication: %s was not the synchronous standby at primary %s's last renewal (%s): it named %s", newNode.Name, lease.Node, stamp(lease.Renewed), lease.SyncStandby)
	default:
		g.note("cluster record: %s was the synchronous standby at the last renewal", newNode.Name)
	}
	if g.lag > 0 {
		g.fail("synchronous replication: standby %s is %d bytes behind the primary's last published position %s and may lack acknowledged writes (synchronous replication allows no lag)",
			newNode.Name, g.lag, lsn(last))
	}
}

// recordLease returns the record's lease when it is evidence of the
// recorded primary's position (its Expires filled in), or why it is not.
func recordLease(o Observation) (*PrimaryLease, string) {
	l := o.Lease
	switch {
	case l == nil:
		return nil, fmt.Sprintf("no primary lease for %s (its agent never renewed one)", o.RecordPrimary)
	case l.Node != o.RecordPrimary:
		return nil, fmt.Sprintf("the primary lease belongs to %s, not to the recorded primary %s", l.Node, o.RecordPrimary)
	case l.LSN == 0:
		return nil, fmt.Sprintf("the primary lease of %s carries no WAL position", l.Node)
	}
	c := *l
	if c.Expires.IsZero() {
		c.Expires = c.Renewed.Add(o.LeaseDuration)
	}
	return &c, ""
}

// lsn formats a WAL position as PostgreSQL does (X/X).
func lsn(p uint64) string { return fmt.Sprintf("%X/%X", p>>32, uint32(p)) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}
