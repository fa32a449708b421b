package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
	"github.com/switchyard/switchyard/internal/store"
)

// Rejoiner is what a Controller offers to rejoin a former primary as a
// standby of the recorded primary.
type Rejoiner interface {
	// Tool returns a PostgreSQL program (pg_rewind, pg_controldata,
	// pg_basebackup) run as the data directory's owner.
	Tool(ctx context.Context, name string, args ...string) *exec.Cmd
	// SourceDSN is the conninfo pg_rewind reads the primary at addr
	// (host:port) with, and pg_basebackup clones it with; with
	// --write-recovery-conf (pg_basebackup: -R) it also becomes the
	// standby's primary_conninfo.
	SourceDSN(addr string) string
	// Follow finishes the stopped, rewound or re-cloned data directory as
	// a standby of the primary at addr (standby.signal and
	// primary_conninfo, if the ones pg_rewind or pg_basebackup wrote are
	// not what this node needs).
	Follow(addr string) error
}

// rejoinRetry is the least time between two rejoin attempts that failed.
const rejoinRetry = time.Minute

// mayRejoin reports whether this former primary may rejoin now: another
// node is the recorded primary, serving under a valid lease that no
// failover holds or hands over, and rejoin is on or was requested for this
// node (switchyard rejoin).
func (a *Agent) mayRejoin(now time.Time) (store.Record, Rejoiner, bool) {
	rj, ok := a.deps.Controller.(Rejoiner)
	rec, have := a.lastRecord()
	requested := have && rec.RejoinRequest != nil && rec.RejoinRequest.Node == a.cfg.Node
	if !ok || !have || !(a.cfg.Cluster.AutoRejoin() || requested) || now.Before(a.rejoinRetryAt) || rec.Paused(now) {
		return rec, nil, false
	}
	l := rec.PrimaryLease
	if rec.Primary == "" || rec.Primary == a.cfg.Node || rec.Lock != nil || l == nil || l.Node != rec.Primary ||
		l.Revoked() || l.HandoverPending() || !now.Before(l.Expires) {
		return rec, nil, false
	}
	return rec, rj, true
}

// rejoin rewinds the stopped, fenced data directory against the recorded
// primary, keeps the WAL the rewind discards, and starts PostgreSQL as its
// standby. When pg_rewind itself fails it re-clones the data directory
// instead (reclone.go), keeping the old one, unless the configuration or
// the failure says not to. A failure leaves the node stopped and fenced,
// retried after rejoinRetry.
func (a *Agent) rejoin(ctx context.Context, rec store.Record, rj Rejoiner) {
	started := a.now()
	primary, ok := a.cfg.Cluster.Node(rec.Primary)
	if !ok {
		return
	}
	a.log.Warn("rejoining: rewinding this former primary to follow the recorded primary", "primary", rec.Primary, "epoch", rec.Epoch)
	a.setState(StateStopped, "rejoining: pg_rewind against "+rec.Primary)
	snapshot := a.snapshotBeforeRejoin(ctx, rec)
	detail, err := a.rewind(ctx, rj, primary.PostgresAddr)
	steps, kept := []string{"rewind", "start"}, ""
	if rf := (*rewindFailed)(nil); errors.As(err, &rf) {
		if why := a.recloneRefusal(rf); why != "" {
			err = fmt.Errorf("%w; no re-clone: %s", err, why)
		} else {
			steps = []string{"rewind", "reclone", "start"}
			detail, kept, err = a.reclone(ctx, rj, rec.Primary, primary.PostgresAddr, rf)
		}
	}
	if err == nil {
		err = a.startRejoined(ctx, rj, primary.PostgresAddr)
		if err != nil && kept != "" {
			err = fmt.Errorf("%w (re-cloned; the old data directory is kept at %s)", err, kept)
		}
	}
	if err != nil {
		_ = markFenced(a.deps.Controller.DataDir(), time.Now().UTC().Format(time.RFC3339)+" rejoin failed: "+err.Error())
		a.rejoinRetryAt = a.now().Add(rejoinRetry)
		a.log.Error("rejoin failed; the node stays stopped and fenced", "primary", rec.Primary, "error", err, "retryAt", a.rejoinRetryAt)
		a.setState(StateStopped, fmt.Sprintf("rejoin failed (%v); retrying at %s, or rejoin by hand (docs/operations.md)", err, a.rejoinRetryAt.Format(time.RFC3339)))
		return
	}
	if snapshot != "" {
		detail += "; " + snapshot
		if a.snapshotEpoch == rec.Epoch {
			steps = append([]string{"snapshot"}, steps...)
		}
	}
	a.log.Warn("rejoined as a standby", "primary", rec.Primary, "detail", detail)
	wctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	entry := store.HistoryEntry{Outcome: store.OutcomeSucceeded, Reason: detail, StartedAt: started.UTC(), FinishedAt: a.now().UTC(),
		Steps: steps}
	if _, err := a.deps.Store.RecordRejoin(wctx, a.cfg.Cluster.Name, a.cfg.Node, entry); err != nil {
		a.log.Error("recording the rejoin in the history failed", "error", err)
	}
	// Counted once the record has been written (or failed to be): whoever
	// sees the count sees the record the rejoin left.
	a.update(func(s *Snapshot) { s.Rejoins++ })
	a.setState(StateStandby, "rejoined: "+detail)
}

// rewind runs pg_rewind against the primary at addr, after keeping a copy
// of the WAL segments from the point the timelines diverged. It returns a
// sentence for the history.
func (a *Agent) rewind(ctx context.Context, rj Rejoiner, addr string) (string, error) {
	dir := a.deps.Controller.DataDir()
	src := "--source-server=" + rj.SourceDSN(addr)
	// Crash recovery of a target stopped immediately runs in single-user
	// mode, which refuses standby.signal. The fence marker still keeps the
	// agent from starting it, and --write-recovery-conf (or Follow) writes
	// standby.signal again.
	if err := os.Remove(filepath.Join(dir, "standby.signal")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("preparing the rewind: %w", err)
	}
	// pg_rewind reads the source's timeline from its control file, which a
	// just-promoted server updates only at its end-of-recovery checkpoint:
	// force it, or pg_rewind sees one timeline and rewinds nothing.
	if err := checkpointSource(ctx, rj.SourceDSN(addr), a.cfg.CheckTimeout); err != nil {
		return "", err
	}
	// pg_rewind --dry-run skips that crash recovery and then refuses an
	// unclean target: complete it here, as pg_rewind would. Not after a
	// clean shutdown (a switchover's): a single-user start would write one
	// more shutdown checkpoint, past the point where the timelines part.
	state, _, err := controlState(ctx, rj, dir)
	if err != nil {
		return "", err
	}
	if state != "shut down" && state != "shut down in recovery" {
		single := rj.Tool(ctx, "postgres", "--single", "-F", "-D", dir, "template1")
		single.Stdin = strings.NewReader("")
		if out, err := single.CombinedOutput(); err != nil {
			return "", fmt.Errorf("crash recovery in single-user mode before pg_rewind: %w: %s", err, lastLines(out))
		}
	}
	out, err := rj.Tool(ctx, "pg_rewind", "--dry-run", "--target-pgdata="+dir, src).CombinedOutput()
	if err != nil {
		return "", &rewindFailed{run: "pg_rewind --dry-run", err: err, out: out}
	}
	div, found := parseDivergence(string(out))
	if !found {
		if !strings.Contains(string(out), "no rewind required") {
			return "", fmt.Errorf("pg_rewind --dry-run said neither where the servers diverged nor that no rewind is required: %s", lastLines(out))
		}
	}
	kept := "nothing to keep: no rewind was required"
	if found {
		keepDir, n, err := a.keepDivergentWAL(ctx, rj, div)
		if err != nil {
			return "", err
		}
		conf, err := saveLocalConfig(dir)
		if err != nil {
			return "", err
		}
		if out, err := rj.Tool(ctx, "pg_rewind", "--target-pgdata="+dir, src, "--write-recovery-conf").CombinedOutput(); err != nil {
			return "", &rewindFailed{run: "pg_rewind", err: err, out: out}
		}
		if err := conf.restore(dir); err != nil {
			return "", err
		}
		kept = fmt.Sprintf("diverged at %s on timeline %d; %d WAL segment(s) from there kept in %s", div.lsnText, div.timeline, n, keepDir)
	}
	return fmt.Sprintf("pg_rewind against %s; %s", addr, kept), nil
}

// checkpointSource runs CHECKPOINT on the rewind's source (superuser or
// pg_checkpoint).
func checkpointSource(ctx context.Context, dsn string, timeout time.Duration) error {
	conn, err := pgnode.Connect(ctx, dsn, timeout)
	if err != nil {
		return fmt.Errorf("connecting to the rewind's source: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := conn.Exec(cctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("CHECKPOINT on the rewind's source: %w", err)
	}
	return nil
}

// startRejoined clears the fence marker, makes the data directory a
// standby of addr and starts it.
func (a *Agent) startRejoined(ctx context.Context, rj Rejoiner, addr string) error {
	dir := a.deps.Controller.DataDir()
	if err := rj.Follow(addr); err != nil {
		return fmt.Errorf("configuring the standby: %w", err)
	}
	if err := writeLikeDir(filepath.Join(dir, "standby.signal"), ""); err != nil {
		return fmt.Errorf("writing standby.signal: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, FenceMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the fence marker: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := a.deps.Controller.Start(sctx); err != nil {
		// Fence it again: the rewound directory must not be started by
		// anything but another rejoin.
		_ = markFenced(dir, time.Now().UTC().Format(time.RFC3339)+" rejoin could not start the rewound standby")
		return fmt.Errorf("starting the rewound standby: %w", err)
	}
	return nil
}

// divergence is where pg_rewind found the timelines parted.
type divergence struct {
	lsn      uint64
	lsnText  string
	timeline uint32
}

var divergedRE = regexp.MustCompile(`servers diverged at WAL location ([0-9A-Fa-f]+)/([0-9A-Fa-f]+) on timeline (\d+)`)

// parseDivergence reads pg_rewind's "servers diverged at WAL location
// X/Y on timeline N".
func parseDivergence(out string) (divergence, bool) {
	m := divergedRE.FindStringSubmatch(out)
	if m == nil {
		return divergence{}, false
	}
	hi, _ := strconv.ParseUint(m[1], 16, 32)
	lo, _ := strconv.ParseUint(m[2], 16, 32)
	tli, _ := strconv.ParseUint(m[3], 10, 32)
	return divergence{lsn: hi<<32 | lo, lsnText: m[1] + "/" + m[2], timeline: uint32(tli)}, true
}

// keepDivergentWAL copies the WAL segments of the divergence's timeline
// from the one holding the divergence point on (what the rewind throws
// away) into a new directory under the keep directory, and returns it with
// the number of segments copied.
func (a *Agent) keepDivergentWAL(ctx context.Context, rj Rejoiner, div divergence) (string, int, error) {
	dir := a.deps.Controller.DataDir()
	segSize, err := walSegmentSize(ctx, rj, dir)
	if err != nil {
		return "", 0, err
	}
	base := a.cfg.Cluster.Rejoin.KeepDir
	if base == "" {
		base = filepath.Join(filepath.Dir(dir), "switchyard-kept")
	}
	keep := filepath.Join(base, fmt.Sprintf("%s-%s", a.cfg.Node, a.now().UTC().Format("20060102T150405Z")))
	if err := os.MkdirAll(keep, 0o700); err != nil {
		return "", 0, fmt.Errorf("keeping the divergent WAL: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "pg_wal"))
	if err != nil {
		return "", 0, fmt.Errorf("keeping the divergent WAL: %w", err)
	}
	from := div.lsn / segSize
	n := 0
	for _, e := range entries {
		tli, segno, ok := parseSegmentName(e.Name(), segSize)
		if !ok || tli != div.timeline || segno < from {
			continue
		}
		if err := copyFile(filepath.Join(dir, "pg_wal", e.Name()), filepath.Join(keep, e.Name())); err != nil {
			return "", 0, fmt.Errorf("keeping the divergent WAL: %w", err)
		}
		n++
	}
	note := fmt.Sprintf("WAL of %s from %s on timeline %d, kept before pg_rewind discarded it (%s).\n",
		a.cfg.Node, div.lsnText, div.timeline, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(keep, "README"), []byte(note), 0o600); err != nil {
		return "", 0, fmt.Errorf("keeping the divergent WAL: %w", err)
	}
	return keep, n, nil
}

var segSizeRE = regexp.MustCompile(`Bytes per WAL segment:\s+(\d+)`)

// walSegmentSize reads the data directory's WAL segment size from
// pg_controldata.
func walSegmentSize(ctx context.Context, rj Rejoiner, dir string) (uint64, error) {
	out, err := rj.Tool(ctx, "pg_controldata", dir).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pg_controldata: %w: %s", err, lastLines(out))
	}
	m := segSizeRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pg_controldata printed no WAL segment size")
	}
	size, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil || size == 0 {
		return 0, fmt.Errorf("pg_controldata: WAL segment size %q", m[1])
	}
	return size, nil
}

// parseSegmentName reads a WAL segment file name (TTTTTTTTXXXXXXXXYYYYYYYY:
// timeline, then the segment number as "log" and segment within it).
func parseSegmentName(name string, segSize uint64) (tli uint32, segno uint64, ok bool) {
	if len(name) != 24 {
		return 0, 0, false
	}
	t, err1 := strconv.ParseUint(name[0:8], 16, 32)
	log, err2 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err3 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return uint32(t), log*(0x100000000/segSize) + seg, true
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// lastLines is the end of a program's output, for an error message.
func lastLines(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return s
}
