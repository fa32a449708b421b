package patroni

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/pgharness"
)

// Packages is the apt command that installs what the benchmark runs.
const Packages = "apt-get install -y patroni etcd-server haproxy postgresql-contrib"

// ErrNotInstalled means a binary the benchmark runs is missing.
var ErrNotInstalled = errors.New("bench/patroni: Patroni, etcd, HAProxy or PostgreSQL 15 is not installed; install them with: " +
	Packages + " (make bench-compare does it)")

// env is where the binaries are and which account runs them.
type env struct {
	patroni, etcd, haproxy string
	pgBin                  string // PostgreSQL 15's bin directory
	cred                   *syscall.Credential
	runAs                  string
}

// findEnv finds the binaries and, as root, the unprivileged account.
func findEnv() (*env, error) {
	e := &env{}
	var missing []string
	look := func(name string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range dirs {
			if p := filepath.Join(d, name); isExecutable(p) {
				return p
			}
		}
		missing = append(missing, name)
		return ""
	}
	e.patroni = look("patroni", "/usr/bin")
	e.etcd = look("etcd", "/usr/bin")
	e.haproxy = look("haproxy", "/usr/sbin")
	e.pgBin = os.Getenv("PG_BIN")
	if e.pgBin == "" {
		e.pgBin = "/usr/lib/postgresql/15/bin"
	}
	for _, tool := range []string{"postgres", "initdb", "pg_ctl", "pg_rewind", "pg_basebackup"} {
		if !isExecutable(filepath.Join(e.pgBin, tool)) {
			missing = append(missing, filepath.Join(e.pgBin, tool))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w (missing: %s)", ErrNotInstalled, strings.Join(missing, ", "))
	}
	name, cred, err := pgharness.Account()
	if err != nil {
		return nil, fmt.Errorf("bench/patroni: %w", err)
	}
	e.runAs, e.cred = name, cred
	return e, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// mkdirOwned creates dir (0700) owned by the run-as user.
func (e *env) mkdirOwned(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return e.chown(dir)
}

func (e *env) chown(path string) error {
	if e.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, e.runAs, err)
	}
	return nil
}

// writeOwned writes a file (0600) owned by the run-as user.
func (e *env) writeOwned(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return e.chown(path)
}

// proc is a long-running child process (etcd, HAProxy, a Patroni).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, once done is closed
}

// start runs bin as the run-as user in dir, its output appended to logPath.
func (e *env) start(name, dir, logPath, bin string, args ...string) (*proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s's log: %w", name, err)
	}
	defer log.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = cleanEnv(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: e.cred,
		Setpgid:    true,
		// Killed with the benchmark (Pdeathsig follows the starting OS
		// thread; nothing here locks threads). PostgreSQL, which Patroni
		// starts in a session of its own, is found by its working
		// directory instead (see killTree).
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// cleanEnv is the environment without PG* and PATRONI_* variables, with
// HOME in the process's own directory and a C locale.
func cleanEnv(home string) []string {
	var out []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, "PG") || strings.HasPrefix(key, "PATRONI_") || strings.HasPrefix(key, "ETCD") ||
			key == "HOME" || strings.HasPrefix(key, "LC_") || key == "LANG" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+home, "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
}

// exited reports whether the process ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL after grace, and waits for the exit.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a frozen process cannot act on SIGTERM
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// processState is the state letter of /proc/pid/stat ('R', 'S', 'T',
// 'Z', ...), or 0 when the process is gone.
func processState(pid int) byte {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2]
	}
	return 0
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	st := processState(pid)
	return st != 0 && st != 'Z' && st != 'X'
}

// postmasterPID reads dataDir/postmaster.pid's first line, or 0.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0
	}
	return pid
}

// nodePIDs are the live processes of a member: those working under dir
// (Patroni and every PostgreSQL process, which chdir into the data
// directory) and the postmaster named by postmaster.pid.
func nodePIDs(dir, dataDir string) []int {
	seen := map[int]bool{}
	var pids []int
	for _, pid := range pgharness.ProcessesUnder(dir) {
		if alive(pid) && !seen[pid] {
			seen[pid] = true
			pids = append(pids, pid)
		}
	}
	if pm := postmasterPID(dataDir); pm > 0 && alive(pm) && !seen[pm] {
		if cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pm), "cwd")); err == nil && cwd == dataDir {
			pids = append(pids, pm)
		}
	}
	return pids
}

// killTree SIGKILLs every process of a member, first those given (Patroni,
// the postmaster) and then the rest, and waits until all are gone.
func killTree(dir, dataDir string, first ...int) error {
	for _, pid := range first {
		if pid > 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids := nodePIDs(dir, dataDir)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v under %s survive SIGKILL", pids, dir)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freezeTree SIGSTOPs every process of a member, first those given
// (Patroni, then the postmaster, so that nothing new is forked), until none
// of them runs.
func freezeTree(dir, dataDir string, first ...int) error {
	for _, pid := range first {
		if pid > 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		running := 0
		for _, pid := range nodePIDs(dir, dataDir) {
			if st := processState(pid); st != 'T' && st != 't' {
				running++
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
		}
		if running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes under %s keep running after SIGSTOP", running, dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
