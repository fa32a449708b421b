package agent

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/internal/store"
)

// GracefulStopper is a Controller that can also stop PostgreSQL cleanly:
// a fast shutdown ends every session, writes a shutdown checkpoint and
// sends the WAL up to it to the connected standbys before it exits.
type GracefulStopper interface {
	StopFast(ctx context.Context) error
}

// demote is the switchover's side of a revoked lease (store.PrimaryLease
// Planned): instead of stopping at once, the old primary stops cleanly,
// fences its data directory, and records where its WAL ends, so that the
// switchover can check the new primary has all of it before promoting it.
// A Controller that cannot stop cleanly or read the control file, or a
// server that was not shut down cleanly, gets the ordinary fence: the
// switchover then waits for the lease to expire instead.
func (a *Agent) demote(ctx context.Context, obs observation, rec store.Record) {
	l := rec.PrimaryLease
	if l.Demoted() {
		a.follow(ctx, obs, fmt.Sprintf("switchover %s demoted this node; its WAL ends at %s", l.RevokedBy, lsnText(l.FinalLSN)))
		return
	}
	gs, canStop := a.deps.Controller.(GracefulStopper)
	rj, canRead := a.deps.Controller.(Rejoiner)
	why := fmt.Sprintf("switchover %s revoked this node's primary lease", l.RevokedBy)
	if !canStop || !canRead {
		a.follow(ctx, obs, why)
		return
	}
	dir := a.deps.Controller.DataDir()
	if obs.running {
		if obs.mayWrite {
			a.log.Warn("switchover: stopping PostgreSQL cleanly (fast shutdown) for the new primary", "switchover", l.RevokedBy)
		}
		if err := markFenced(dir, time.Now().UTC().Format(time.RFC3339)+" "+why); err != nil {
			a.log.Error("could not mark the data directory; stopping anyway", "error", err)
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := gs.StopFast(sctx)
		cancel()
		if err != nil {
			a.log.Error("clean stop for the switchover failed; stopping at once", "error", err)
			a.selfFence(ctx, why)
			return
		}
		a.disarm()
	}
	state, final, err := controlState(ctx, rj, dir)
	if err != nil {
		a.log.Error("switchover: reading the control file failed", "error", err)
		a.setState(StateStopped, "switchover: stopped, final WAL position unknown: "+err.Error())
		return
	}
	if state != "shut down" {
		a.setState(StateStopped, fmt.Sprintf("%s; not shut down cleanly (%s), so the switchover waits for the lease to expire", why, state))
		return
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	if _, err := a.deps.Store.RecordDemoted(wctx, a.cfg.Cluster.Name, a.cfg.Node, final, a.now()); err != nil {
		a.log.Error("recording the demotion failed; retrying next loop", "error", err)
		return
	}
	a.log.Warn("switchover: stopped cleanly and fenced; the new primary may take over", "finalLsn", lsnText(final))
	a.setState(StateStopped, fmt.Sprintf("demoted by switchover %s; WAL ends at %s", l.RevokedBy, lsnText(final)))
}

var (
	controlStateRE     = regexp.MustCompile(`Database cluster state:\s+(.+)`)
	latestCheckpointRE = regexp.MustCompile(`Latest checkpoint location:\s+([0-9A-Fa-f]+)/([0-9A-Fa-f]+)`)
)

// controlState reads the data directory's state and latest checkpoint
// location from pg_controldata. After a clean shutdown the latest
// checkpoint is the shutdown checkpoint: the last WAL record written.
func controlState(ctx context.Context, rj Rejoiner, dir string) (string, uint64, error) {
	out, err := rj.Tool(ctx, "pg_controldata", dir).CombinedOutput()
	if err != nil {
		return "", 0, fmt.Errorf("pg_controldata: %w: %s", err, lastLines(out))
	}
	st := controlStateRE.FindSubmatch(out)
	cp := latestCheckpointRE.FindSubmatch(out)
	if st == nil || cp == nil {
		return "", 0, fmt.Errorf("pg_controldata printed no cluster state or checkpoint location: %s", lastLines(out))
	}
	hi, _ := strconv.ParseUint(string(cp[1]), 16, 32)
	lo, _ := strconv.ParseUint(string(cp[2]), 16, 32)
	return string(st[1]), hi<<32 | lo, nil
}

func lsnText(lsn uint64) string { return fmt.Sprintf("%X/%X", lsn>>32, lsn&0xffffffff) }
