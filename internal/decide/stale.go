package decide

import (
	"fmt"
	"time"
)

// sighting is an instant at which the primary was observed alive.
type sighting struct {
	at   time.Time
	what string
}

// latestSighting returns the newest observation of the primary alive: a
// healthy heartbeat or a PrimaryLSN in CloudWatch, a direct probe finding
// it writable, or the candidate receiving WAL from it.
func latestSighting(o Observation, oldNode, newNode Node) (sighting, bool) {
	var all []sighting
	if o.HeartbeatKnown {
		all = append(all, sighting{o.Now.Add(-o.PrimaryHeartbeatAge), "a healthy heartbeat in CloudWatch"})
	}
	if o.LSNKnown {
		all = append(all, sighting{o.Now.Add(-o.LSNAge), "its PrimaryLSN in CloudWatch"})
	}
	if oldNode.Probe.Reachable && !oldNode.Probe.InRecovery {
		all = append(all, sighting{o.Now, "a direct probe found it accepting connections out of recovery"})
	}
	if newNode.Probe.Reachable && newNode.Probe.Streaming {
		all = append(all, sighting{o.Now.Add(-newNode.Probe.LastMessageAge), fmt.Sprintf("standby %s received WAL from it", newNode.Name)})
	}
	var best sighting
	for _, s := range all {
		if best.at.IsZero() || s.at.After(best.at) {
			best = s
		}
	}
	return best, !best.at.IsZero()
}

// staleness applies the gate's staleness rule and reports whether the
// evidence is stale. The record's lease bounds what the primary wrote: its
// agent stops PostgreSQL before Expires unless it renews (publishing a new
// position). A primary seen alive later than Expires plus the clock margin
// kept going after its last published position, so that position bounds
// nothing. Without a lease nothing stops the primary, so CloudWatch's
// evidence counts only while it is younger than the bounds.
func staleness(o Observation, lease *PrimaryLease, oldNode, newNode Node, last uint64, g *gateResult) bool {
	seen, ok := latestSighting(o, oldNode, newNode)
	if lease != nil {
		bound := lease.Expires.Add(o.ClockMargin)
		if ok && seen.at.After(bound) {
			g.fail("stale evidence: primary %s was seen alive at %s (%s), %s after its primary lease expired at %s plus the %s clock margin: it may have accepted writes after the last position it published (%s)",
				oldNode.Name, stamp(seen.at), seen.what, seen.at.Sub(bound).Round(time.Millisecond), stamp(lease.Expires), o.ClockMargin, lsn(last))
			return true
		}
		if o.Now.Before(bound) {
			g.note("the primary lease of %s holds until %s with the clock margin: no write past that instant, and none is promoted before it", lease.Node, stamp(bound))
		}
		return false
	}
	if !o.LSNKnown {
		return false // missing, refused by the caller
	}
	published := o.Now.Add(-o.LSNAge)
	if bound := published.Add(o.StaleAfter); ok && seen.at.After(bound) {
		g.fail("stale evidence: primary %s was seen alive at %s (%s), %s after it last published its WAL position to CloudWatch (%s ago), more than the %s stale limit, and the cluster record holds no lease bounding what it wrote since",
			oldNode.Name, stamp(seen.at), seen.what, seen.at.Sub(published).Round(time.Second), o.LSNAge.Round(time.Second), o.StaleAfter)
		return true
	}
	heartbeatOld := !o.HeartbeatKnown || o.PrimaryHeartbeatAge > o.MaxEvidenceAge
	if o.LSNAge > o.MaxEvidenceAge && heartbeatOld {
		hb := "is missing"
		if o.HeartbeatKnown {
			hb = fmt.Sprintf("is %s old", o.PrimaryHeartbeatAge.Round(time.Second))
		}
		g.fail("stale evidence: the only evidence is CloudWatch's and it is too old: primary %s's last PrimaryLSN is %s old and its last healthy heartbeat %s, beyond the %s bound, and the cluster record holds no lease bounding what it wrote since",
			oldNode.Name, o.LSNAge.Round(time.Second), hb, o.MaxEvidenceAge)
		return true
	}
	g.note("only CloudWatch's evidence, %s old: within the %s bound, but nothing kept the primary from writing after it", o.LSNAge.Round(time.Second), o.MaxEvidenceAge)
	return false
}
