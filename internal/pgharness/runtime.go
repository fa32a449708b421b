package pgharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoPostgres means the PostgreSQL server binaries were not found.
var ErrNoPostgres = errors.New("pgharness: PostgreSQL server binaries not found (run scripts/ensure-postgres.sh or set PG_BIN)")

// runAsCandidates are the accounts PostgreSQL runs as when the harness runs
// as root, in order of preference.
var runAsCandidates = []string{"postgres", "switchyard"}

// runtimeEnv is where the binaries are and which account runs them.
type runtimeEnv struct {
	binDir string
	// cred is nil when the processes run as the current user.
	cred  *syscall.Credential
	runAs string
}

// newRuntimeEnv finds the binaries and, when running as root, the account
// that runs PostgreSQL.
func newRuntimeEnv() (*runtimeEnv, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	name, cred, err := Account()
	if err != nil {
		return nil, err
	}
	return &runtimeEnv{binDir: binDir, cred: cred, runAs: name}, nil
}

// Account is the unprivileged account PostgreSQL runs as: the current
// user, or, when running as root (PostgreSQL refuses root), the first of
// runAsCandidates that exists, with the credential to switch to it (nil
// when no switch is needed). Other harnesses of PostgreSQL servers
// (bench/patroni) use it too.
func Account() (name string, cred *syscall.Credential, err error) {
	if os.Geteuid() != 0 {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return name, nil, nil
	}
	for _, candidate := range runAsCandidates {
		u, err := user.Lookup(candidate)
		if err != nil {
			continue
		}
		uid, errU := strconv.ParseUint(u.Uid, 10, 32)
		gid, errG := strconv.ParseUint(u.Gid, 10, 32)
		if errU != nil || errG != nil {
			return "", nil, fmt.Errorf("pgharness: user %s has a non-numeric uid/gid %q/%q", candidate, u.Uid, u.Gid)
		}
		return candidate, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return "", nil, fmt.Errorf("pgharness: running as root but none of the users %v exists to run PostgreSQL (run scripts/ensure-postgres.sh)", runAsCandidates)
}

// BinDir is the directory of the PostgreSQL programs the harness runs
// (findBinDir), for tests that drive pg_ctl as the product does.
func BinDir() (string, error) { return findBinDir() }

// findBinDir returns $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else
// the directory of initdb in $PATH.
func findBinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if !isExecutable(filepath.Join(dir, "initdb")) {
			return "", fmt.Errorf("pgharness: PG_BIN=%s has no executable initdb: %w", dir, ErrNoPostgres)
		}
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type candidate struct {
		major int
		dir   string
	}
	var found []candidate
	for _, m := range matches {
		dir := filepath.Dir(m)
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err != nil || !isExecutable(m) {
			continue
		}
		found = append(found, candidate{major: major, dir: dir})
	}
	if len(found) > 0 {
		sort.Slice(found, func(i, j int) bool { return found[i].major > found[j].major })
		return found[0].dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// command builds an exec.Cmd for a PostgreSQL tool bounded by ctx (killed
// when ctx ends), run as the right user in dir.
func (e *runtimeEnv) command(ctx context.Context, dir, tool string, args ...string) *exec.Cmd {
	return e.prepare(exec.CommandContext(ctx, filepath.Join(e.binDir, tool), args...), dir)
}

// serverCommand builds the command of a long-running server: its lifetime
// is managed by Stop and Kill, not by a context.
func (e *runtimeEnv) serverCommand(dir, tool string, args ...string) *exec.Cmd {
	return e.prepare(exec.Command(filepath.Join(e.binDir, tool), args...), dir)
}

// prepare sets the user, directory and a clean environment (no PG*
// variables from the caller leak in).
func (e *runtimeEnv) prepare(cmd *exec.Cmd, dir string) *exec.Cmd {
	cmd.Dir = dir
	cmd.Env = cleanEnv(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: e.cred,
		// Own process group: a Ctrl-C aimed at the test binary does not
		// reach the server directly; the harness shuts it down instead.
		Setpgid: true,
		// If the test process dies, the kernel kills the child. Go sets this
		// after switching credentials, so the switch does not clear it.
		Pdeathsig: syscall.SIGKILL,
	}
	return cmd
}

// cleanEnv is the caller's environment without PG* variables, with HOME set
// to a directory the run-as user can read and a C locale.
func cleanEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, "PG") || key == "HOME" || strings.HasPrefix(key, "LC_") || key == "LANG" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "LC_ALL=C", "LANG=C")
}

// chown gives path to the run-as user when running as root.
func (e *runtimeEnv) chown(path string) error {
	if e.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
		return fmt.Errorf("pgharness: chown %s to %s: %w", path, e.runAs, err)
	}
	return nil
}

// mkdirOwned creates dir (mode 0700) owned by the run-as user.
func (e *runtimeEnv) mkdirOwned(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("pgharness: create %s: %w", dir, err)
	}
	return e.chown(dir)
}

// checkTraversable reports an error when the run-as user cannot reach dir
// because an ancestor directory lacks search permission for it.
func (e *runtimeEnv) checkTraversable(dir string) error {
	if e.cred == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgharness: stat %s: %w", p, err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		mode := st.Mode().Perm()
		allowed := mode&0o001 != 0 ||
			(ok && sys.Uid == e.cred.Uid && mode&0o100 != 0) ||
			(ok && sys.Gid == e.cred.Gid && mode&0o010 != 0)
		if !allowed {
			return fmt.Errorf("pgharness: %s (mode %v) is not traversable by %s; set TMPDIR to a directory under a world-searchable path", p, mode, e.runAs)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
