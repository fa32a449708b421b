package cli

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/internal/discover"
	"github.com/switchyard/switchyard/internal/reroute"
	"github.com/switchyard/switchyard/internal/store"
)

// member is one node as status shows it, from the cluster record: the
// primary's lease and what its last renewal saw of its standbys.
type member struct {
	Node     string `json:"node"`
	Role     string `json:"role"` // "primary" or "standby"
	State    string `json:"state"`
	Timeline uint32 `json:"timeline,omitempty"`
	// LSN is the primary's flushed WAL position, or the standby's replay
	// position, at the primary's last renewal.
	LSN string `json:"lsn,omitempty"`
	// LagBytes and LagSeconds are the standby's replay lag behind the
	// primary (nil when unknown).
	LagBytes   *uint64  `json:"lagBytes,omitempty"`
	LagSeconds *float64 `json:"lagSeconds,omitempty"`
	// Sync is pg_stat_replication's sync_state; Eligible whether the
	// record allows promoting it, and Why not.
	Sync     string `json:"sync,omitempty"`
	Eligible *bool  `json:"eligible,omitempty"`
	Why      string `json:"why,omitempty"`
	// AsOf is the renewal the row comes from.
	AsOf time.Time `json:"asOf,omitzero"`
}

// members lists the primary and every standby the record knows of.
func members(rec store.Record, now time.Time) []member {
	l := rec.PrimaryLease
	if l != nil && l.Node != rec.Primary {
		l = nil
	}
	p := member{Node: rec.Primary, Role: "primary"}
	switch {
	case rec.Primary == "":
		return nil
	case l == nil:
		p.State = "no lease yet (its agent has not renewed)"
	case l.Revoked():
		p.State = "fenced: lease revoked by " + l.RevokedBy
	case !now.Before(l.Expires):
		p.State = "lease expired " + relative(l.Expires, now) + ": not writable"
	default:
		p.State = fmt.Sprintf("writable, lease %s left", l.Expires.Sub(now).Round(100*time.Millisecond))
	}
	if l != nil {
		p.Timeline, p.AsOf = l.Timeline, l.Renewed
		if l.LSN > 0 {
			p.LSN = formatLSN(l.LSN)
		}
	}
	out := []member{p}
	seen := map[string]bool{rec.Primary: true}
	if l != nil {
		for _, r := range l.Replicas {
			if seen[r.Node] {
				continue
			}
			seen[r.Node] = true
			m := member{Node: r.Node, Role: "standby", State: r.State, Sync: r.Sync, Timeline: l.Timeline,
				LSN: formatLSN(r.ReplayLSN), AsOf: l.Renewed}
			if l.LSN >= r.ReplayLSN {
				lag := l.LSN - r.ReplayLSN
				m.LagBytes = &lag
			}
			secs := float64(r.ReplayLagMs) / 1000
			m.LagSeconds = &secs
			out = append(out, m)
		}
	}
	if st := rec.Standby; st != nil && !seen[st.Node] {
		out = append(out, member{Node: st.Node, Role: "standby", State: "not streaming from the primary"})
	}
	for i := range out {
		if st := rec.Standby; st != nil && out[i].Node == st.Node && out[i].Role == "standby" {
			eligible := st.Eligible
			out[i].Eligible, out[i].Why = &eligible, st.Reason
		}
	}
	sort.SliceStable(out[1:], func(i, j int) bool { return out[1+i].Node < out[1+j].Node })
	return out
}

func formatLSN(lsn uint64) string { return fmt.Sprintf("%X/%X", lsn>>32, uint32(lsn)) }

func printMembers(w io.Writer, ms []member, now time.Time) error {
	if len(ms) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tSTATE\tTL\tLSN\tLAG\tSYNC\tPROMOTABLE")
	for _, m := range ms {
		lag := "-"
		if m.LagBytes != nil {
			lag = fmt.Sprintf("%d B", *m.LagBytes)
			if m.LagSeconds != nil {
				lag += fmt.Sprintf(", %.1fs", *m.LagSeconds)
			}
		}
		tl := "-"
		if m.Timeline > 0 {
			tl = fmt.Sprint(m.Timeline)
		}
		promotable := "-"
		if m.Eligible != nil {
			promotable = "yes"
			if !*m.Eligible {
				promotable = "no: " + orPlaceholder(m.Why, "no reason recorded")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Node, m.Role, oneLine(m.State), tl, orDash(m.LSN), lag,
			orDash(m.Sync), clipText(oneLine(promotable), 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if at := ms[0].AsOf; !at.IsZero() {
		_, err := fmt.Fprintf(w, "(positions as of the primary's renewal at %s, %s)\n", formatTime(at), relative(at, now))
		return err
	}
	return nil
}

// printRouting lists where each client-facing target points.
func printRouting(w io.Writer, where []reroute.Pointing, primary string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tWHAT\tPOINTS AT\t")
	for _, p := range where {
		at, note := p.Node, ""
		switch {
		case p.Drift != "":
			at, note = orDash(p.Node), "DRIFT: "+p.Drift
		case p.Error != "":
			at, note = "?", "UNREADABLE: "+p.Error
		case p.Node == "":
			at, note = orDash(p.Raw), "DRIFT: not a cluster node"
		case p.Node != primary:
			note = "DRIFT: not the recorded primary " + primary
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Target, p.What, at, oneLine(note))
	}
	return tw.Flush()
}

// printInstances shows each configured node's instance as EC2 has it.
func printInstances(w io.Writer, instances []discover.Instance) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tINSTANCE\tSTATE\tAZ\tPRIVATE IP\tINTERFACE\t")
	for _, in := range instances {
		note := ""
		switch {
		case in.Error != "":
			note = "UNREADABLE: " + in.Error
		case in.Problem != "":
			note = "DIFFERS: " + in.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Node, in.InstanceID, orDash(in.State), orDash(in.AvailabilityZone),
			orDash(in.PrivateIP), in.NetworkInterfaceID, oneLine(note))
	}
	return tw.Flush()
}
