package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// recloneHowTo is where an operator finds the re-clone by hand.
const recloneHowTo = "re-clone by hand with pg_basebackup (docs/operations.md#re-joining-the-old-primary-as-a-standby)"

// rewindFailed is pg_rewind's own failure, its --dry-run or the real run,
// after the source answered a CHECKPOINT: what a re-clone may follow.
type rewindFailed struct {
	run string // "pg_rewind --dry-run" or "pg_rewind"
	err error
	out []byte
}

func (e *rewindFailed) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.run, e.err, lastLines(e.out))
}

func (e *rewindFailed) Unwrap() error { return e.err }

// lastLine is the last line pg_rewind printed (its fatal error), for the
// history.
func (e *rewindFailed) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(e.out)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return e.err.Error()
}

// recloneRefusal says why a failed rewind is not followed by a re-clone,
// or "" when it is.
func (a *Agent) recloneRefusal(rf *rewindFailed) string {
	out := string(rf.out)
	switch {
	case !a.cfg.Cluster.Reclone():
		return "re-clone disabled (rejoin.noReclone)"
	case a.recloneSwapFailed != nil:
		return fmt.Sprintf("an earlier re-clone could not replace the data directory (%v); restart the agent to try again, or %s",
			a.recloneSwapFailed, recloneHowTo)
	case strings.Contains(out, "different systems"):
		// The configured primary is another database cluster: a
		// configuration error that a copy of it would hide.
		return "the source is another database cluster (different system identifier); check the cluster configuration"
	case strings.Contains(out, "could not connect") || strings.Contains(out, "connection to server"):
		return "pg_rewind could not connect to the source; retrying the rewind"
	}
	return ""
}

// reclone replaces the stopped, fenced data directory with a base backup
// of the primary at addr, after pg_rewind failed (rf). The old data
// directory is renamed to a sibling "<dir>.replaced-<UTC time>" and kept;
// the clone is written to the sibling "<dir>.reclone" and renamed into
// place, configured as a standby of addr (pg_basebackup -R) and fenced
// until startRejoined starts it. A failure before the swap leaves the old
// data directory where it was and removes the partial clone. It returns
// the history's sentence and the old data directory's new path.
func (a *Agent) reclone(ctx context.Context, rj Rejoiner, primary, addr string, rf *rewindFailed) (detail, kept string, err error) {
	dir := filepath.Clean(a.deps.Controller.DataDir())
	tmp := dir + ".reclone"
	kept = fmt.Sprintf("%s.replaced-%s", dir, a.now().UTC().Format("20060102T150405Z"))
	if a.deps.Controller.Running() {
		return "", "", errors.New("re-clone: PostgreSQL runs; the data directory can be replaced only while it is stopped")
	}
	if err := recloneChecks(dir, kept); err != nil {
		return "", "", fmt.Errorf("re-clone after %s: %w; %s", rf.run, err, recloneHowTo)
	}
	a.log.Warn("pg_rewind failed; re-cloning this former primary with pg_basebackup, keeping its old data directory",
		"primary", primary, "rewindError", rf.lastLine(), "clone", tmp, "oldDataDir", kept)
	a.setState(StateStopped, fmt.Sprintf("rejoining: pg_rewind against %s failed (%s); re-cloning with pg_basebackup; "+
		"the old data directory will be kept at %s", primary, rf.lastLine(), kept))
	if err := a.checkCloneSpace(ctx, rj.SourceDSN(addr), filepath.Dir(dir)); err != nil {
		return "", "", err
	}
	// A leftover of an interrupted attempt: only ever a (partial) clone,
	// the old data directory never goes there.
	if err := os.RemoveAll(tmp); err != nil {
		return "", "", fmt.Errorf("re-clone: removing the leftover clone %s: %w", tmp, err)
	}
	if err := mkdirLike(tmp, dir); err != nil {
		return "", "", fmt.Errorf("re-clone: %w", err)
	}
	// -R writes standby.signal and primary_conninfo from SourceDSN, as
	// pg_rewind --write-recovery-conf does; startRejoined's Follow adds
	// what this node needs besides.
	conf, err := saveLocalConfig(dir)
	if err != nil {
		return "", "", errors.Join(fmt.Errorf("re-clone: %w (the old data directory is unchanged)", err), os.RemoveAll(tmp))
	}
	out, err := rj.Tool(ctx, "pg_basebackup", "-D", tmp, "-X", "stream", "-c", "fast", "-R", "-w",
		"-d", rj.SourceDSN(addr)).CombinedOutput()
	if err != nil {
		rmErr := os.RemoveAll(tmp)
		return "", "", errors.Join(fmt.Errorf("pg_basebackup from %s: %w: %s (the old data directory is unchanged)", addr, err, lastLines(out)), rmErr)
	}
	if err := conf.restore(tmp); err != nil {
		return "", "", errors.Join(fmt.Errorf("re-clone: %w (the old data directory is unchanged)", err), os.RemoveAll(tmp))
	}
	now := time.Now().UTC().Format(time.RFC3339)
	if err := markFenced(tmp, now+" re-cloned from "+addr+"; fenced until the rejoin starts it"); err != nil {
		return "", "", errors.Join(fmt.Errorf("re-clone: %w (the old data directory is unchanged)", err), os.RemoveAll(tmp))
	}
	// The old directory stays fenced wherever it goes.
	if err := markFenced(dir, now+" replaced by a re-clone from "+addr+" and kept at "+kept+
		"; not to be started as this node's data directory"); err != nil {
		return "", "", errors.Join(fmt.Errorf("re-clone: %w (the old data directory is unchanged)", err), os.RemoveAll(tmp))
	}
	if err := swapDataDir(dir, tmp, kept, os.Rename); err != nil {
		a.recloneSwapFailed = err
		return "", "", err
	}
	a.log.Warn("re-cloned: the old data directory is kept; delete it once it is no longer needed", "dataDir", dir, "oldDataDir", kept)
	return fmt.Sprintf("pg_rewind against %s failed (%s); re-cloned with pg_basebackup from %s; the old data directory is kept at %s",
		addr, rf.lastLine(), addr, kept), kept, nil
}

// replacedNote reminds a standby's state of the data directories that
// re-clones replaced and kept beside its own, until they are deleted.
func (a *Agent) replacedNote() string {
	old, _ := filepath.Glob(filepath.Clean(a.deps.Controller.DataDir()) + ".replaced-*")
	if len(old) == 0 {
		return ""
	}
	return "; data directories replaced by a re-clone are kept at " + strings.Join(old, ", ") + " (delete them once no longer needed)"
}

// recloneChecks refuses a data directory that renames cannot replace with
// a clone of the same layout: a symbolic link or a mount point (the clone
// would be written to the parent's filesystem), tablespaces or a pg_wal on
// another filesystem (pg_basebackup would write them into paths the old
// directory still uses, or into the data directory).
func recloneChecks(dir, kept string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("the data directory %s is not a directory (a symbolic link?)", dir)
	}
	pst, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return err
	}
	if dev(st) != dev(pst) {
		return fmt.Errorf("the data directory %s is a mount point: renaming cannot replace it", dir)
	}
	if wal, err := os.Lstat(filepath.Join(dir, "pg_wal")); err == nil && wal.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s/pg_wal is a symbolic link (WAL on another filesystem), which a clone would not keep", dir)
	}
	if ts, err := os.ReadDir(filepath.Join(dir, "pg_tblspc")); err == nil && len(ts) > 0 {
		return fmt.Errorf("the data directory %s has %d tablespace(s), which pg_basebackup would write where the old directory keeps them", dir, len(ts))
	}
	if _, err := os.Lstat(kept); err == nil {
		return fmt.Errorf("%s exists already", kept)
	}
	return nil
}

func dev(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev) // int32 on some systems
	}
	return 0
}

// checkCloneSpace refuses a clone that cannot fit: the filesystem holding
// the data directory's parent needs the source's databases' size and a
// tenth more (WAL streamed meanwhile). A source that does not tell its
// size (no CONNECT on some database) is only logged.
func (a *Agent) checkCloneSpace(ctx context.Context, dsn, parent string) error {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(parent, &fs); err != nil {
		return fmt.Errorf("re-clone: free space on %s: %w", parent, err)
	}
	free := uint64(fs.Bavail) * uint64(fs.Bsize) // the types differ between systems
	conn, err := pgnode.Connect(ctx, dsn, a.cfg.CheckTimeout)
	if err != nil {
		return fmt.Errorf("re-clone: connecting to the source: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	qctx, cancel := context.WithTimeout(ctx, a.cfg.CheckTimeout)
	defer cancel()
	var size int64
	if err := conn.QueryRow(qctx, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database").Scan(&size); err != nil {
		a.log.Warn("re-clone: the source's size is unknown; cloning without checking the free space", "error", err)
		return nil
	}
	if need := uint64(size) + uint64(size)/10; free < need {
		return fmt.Errorf("re-clone: %s has %d MiB free, the clone needs about %d MiB (the old data directory is kept too); "+
			"free space, or %s", parent, free>>20, need>>20, recloneHowTo)
	}
	return nil
}

// mkdirLike creates dir (0700) owned like like when running as root:
// pg_basebackup runs as the data directory's owner.
func mkdirLike(dir, like string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(like)
	if err != nil {
		return err
	}
	if uid, gid, ok := owner(st); ok && os.Geteuid() == 0 {
		return os.Chown(dir, uid, gid)
	}
	return nil
}

// swapDataDir renames the data directory dir to kept and the clone tmp to
// dir. If either rename fails it puts things back as they were (dir in
// place, the clone removed) and says how to go on; only if moving dir back
// fails too are both left for the operator, named in the error.
func swapDataDir(dir, tmp, kept string, rename func(from, to string) error) error {
	hint := func(err error) string {
		if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
			return " (the data directory is a mount point, or on another filesystem than " + filepath.Dir(dir) + ")"
		}
		return ""
	}
	if err := rename(dir, kept); err != nil {
		return errors.Join(fmt.Errorf("re-clone: moving the data directory %s aside to %s: %w%s; it is unchanged and the clone removed; %s",
			dir, kept, err, hint(err), recloneHowTo), os.RemoveAll(tmp))
	}
	if err := rename(tmp, dir); err != nil {
		if berr := rename(kept, dir); berr != nil {
			return fmt.Errorf("re-clone: moving the clone %s into place: %w%s, and moving the old data directory back from %s failed too (%v): "+
				"there is no data directory at %s; move %s back (or the complete, fenced clone %s into place) by hand",
				tmp, err, hint(err), kept, berr, dir, kept, tmp)
		}
		return errors.Join(fmt.Errorf("re-clone: moving the clone %s into place at %s: %w%s; the old data directory is back and the clone removed; %s",
			tmp, dir, err, hint(err), recloneHowTo), os.RemoveAll(tmp))
	}
	syncDir(filepath.Dir(dir))
	return nil
}

// syncDir makes renames in dir durable (best effort).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}
