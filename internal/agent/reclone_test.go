package agent

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/switchyard/switchyard/internal/cluster"
)

// swapDirs lays out a data directory and a clone, each with one file
// saying which it is.
func swapDirs(t *testing.T) (dir, tmp, kept string) {
	t.Helper()
	parent := t.TempDir()
	dir, tmp, kept = filepath.Join(parent, "data"), filepath.Join(parent, "data.reclone"), filepath.Join(parent, "data.replaced-20260101T000000Z")
	for d, what := range map[string]string{dir: "old", tmp: "clone"} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "which"), []byte(what), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, tmp, kept
}

func which(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "which"))
	if err != nil {
		return "missing"
	}
	return string(b)
}

// A swap whose renames fail puts everything back: the old data directory
// in place, the clone removed, nothing at the kept path; the error names
// the likely cause (a mount point) and the fix. Only when moving the old
// directory back fails too are both left, named in the error.
func TestSwapDataDirPutsBackOnFailure(t *testing.T) {
	ebusy := &os.LinkError{Op: "rename", Err: syscall.EBUSY}
	exdev := &os.LinkError{Op: "rename", Err: syscall.EXDEV}
	cases := []struct {
		name           string
		fail           map[int]error // by the call's number, from 1
		dir, tmp, kept string        // what each path holds afterwards
		mentions       []string
		wantErr        bool
	}{
		{name: "ok", dir: "clone", tmp: "missing", kept: "old"},
		{name: "data directory busy", fail: map[int]error{1: ebusy}, dir: "old", tmp: "missing", kept: "missing", wantErr: true,
			mentions: []string{"mount point", "re-clone by hand", "docs/operations.md"}},
		{name: "clone on another filesystem", fail: map[int]error{2: exdev}, dir: "old", tmp: "missing", kept: "missing", wantErr: true,
			mentions: []string{"another filesystem", "the old data directory is back", "re-clone by hand"}},
		{name: "no way back", fail: map[int]error{2: exdev, 3: ebusy}, dir: "missing", tmp: "clone", kept: "old", wantErr: true,
			mentions: []string{"failed too", "there is no data directory", "by hand"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, tmp, kept := swapDirs(t)
			n := 0
			err := swapDataDir(dir, tmp, kept, func(from, to string) error {
				n++
				if e := c.fail[n]; e != nil {
					return e
				}
				return os.Rename(from, to)
			})
			if (err != nil) != c.wantErr {
				t.Fatalf("swapDataDir: %v", err)
			}
			for _, m := range c.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if got := [3]string{which(dir), which(tmp), which(kept)}; got != [3]string{c.dir, c.tmp, c.kept} {
				t.Errorf("data directory, clone, kept hold %v, want %v", got, [3]string{c.dir, c.tmp, c.kept})
			}
			if _, err := os.Stat(tmp); c.tmp == "missing" && err == nil {
				t.Errorf("the clone %s is still there", tmp)
			}
		})
	}
}

// recloneChecks refuses layouts that renames cannot replace whole.
func TestRecloneChecks(t *testing.T) {
	dir, _, kept := swapDirs(t)
	if err := recloneChecks(dir, kept); err != nil {
		t.Fatalf("a plain data directory: %v", err)
	}
	if err := os.Mkdir(kept, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := recloneChecks(dir, kept); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("kept path taken: %v", err)
	}
	dir, _, kept = swapDirs(t)
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "pg_wal")); err != nil {
		t.Fatal(err)
	}
	if err := recloneChecks(dir, kept); err == nil || !strings.Contains(err.Error(), "pg_wal is a symbolic link") {
		t.Errorf("pg_wal elsewhere: %v", err)
	}
	dir, _, kept = swapDirs(t)
	if err := os.MkdirAll(filepath.Join(dir, "pg_tblspc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "pg_tblspc", "16384")); err != nil {
		t.Fatal(err)
	}
	if err := recloneChecks(dir, kept); err == nil || !strings.Contains(err.Error(), "1 tablespace(s)") {
		t.Errorf("a tablespace: %v", err)
	}
	link := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := recloneChecks(link, link+".replaced-x"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a symbolic link as the data directory: %v", err)
	}
}

// A failed pg_rewind is followed by a re-clone unless the configuration
// turns it off, the source is another cluster, or pg_rewind could not
// reach the source.
func TestRecloneRefusal(t *testing.T) {
	failed := func(out string) *rewindFailed {
		return &rewindFailed{run: "pg_rewind --dry-run", err: &exec.ExitError{}, out: []byte(out)}
	}
	on := &Agent{cfg: Config{Cluster: &cluster.Config{}}}
	off := &Agent{cfg: Config{Cluster: &cluster.Config{Rejoin: cluster.Rejoin{NoReclone: true}}}}
	cases := []struct {
		a    *Agent
		out  string
		want string // "" means re-clone
	}{
		{on, "pg_rewind: error: could not find previous WAL record at 0/3000028\n", ""},
		{on, "pg_rewind: error: target server needs to use either data checksums or \"wal_log_hints = on\"\n", ""},
		{off, "pg_rewind: error: could not find previous WAL record at 0/3000028\n", "rejoin.noReclone"},
		{on, "pg_rewind: fatal: source and target clusters are from different systems\n", "another database cluster"},
		{on, "pg_rewind: error: connection to server at \"10.0.2.10\", port 5432 failed: Connection refused\n", "could not connect"},
	}
	for _, c := range cases {
		if got := c.a.recloneRefusal(failed(c.out)); (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%q (noReclone %t): refusal %q, want %q", c.out, c.a.cfg.Cluster.Rejoin.NoReclone, got, c.want)
		}
	}
	withSwapFailure := &Agent{cfg: Config{Cluster: &cluster.Config{}}, recloneSwapFailed: errors.New("EBUSY")}
	if got := withSwapFailure.recloneRefusal(failed("pg_rewind: error: x\n")); !strings.Contains(got, "restart the agent") {
		t.Errorf("after a failed swap: %q", got)
	}
	if l := failed("pg_rewind: source and target cluster are on the same timeline\npg_rewind: error: boom\n").lastLine(); l != "pg_rewind: error: boom" {
		t.Errorf("lastLine %q", l)
	}
}
