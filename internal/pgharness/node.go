package pgharness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the PostgreSQL superuser every node is initialised with. It is
// trusted on loopback, for normal and replication connections.
const Superuser = "postgres"

// defaultStartTimeout bounds Start when the caller's context has no deadline.
const defaultStartTimeout = 60 * time.Second

// ErrNotRunning is returned by operations that need a running server.
var ErrNotRunning = errors.New("pgharness: server is not running")

// StopMode is how Stop asks PostgreSQL to shut down (the modes of pg_ctl stop).
type StopMode int

const (
	// StopSmart waits for every client to disconnect (SIGTERM).
	StopSmart StopMode = iota + 1
	// StopFast rolls back open transactions and disconnects clients (SIGINT).
	StopFast
	// StopImmediate quits without a shutdown checkpoint; the next start runs
	// crash recovery (SIGQUIT).
	StopImmediate
)

// String returns the pg_ctl name of the mode.
func (m StopMode) String() string {
	switch m {
	case StopSmart:
		return "smart"
	case StopFast:
		return "fast"
	case StopImmediate:
		return "immediate"
	}
	return "StopMode(" + strconv.Itoa(int(m)) + ")"
}

func (m StopMode) signal() (syscall.Signal, error) {
	switch m {
	case StopSmart:
		return syscall.SIGTERM, nil
	case StopFast:
		return syscall.SIGINT, nil
	case StopImmediate:
		return syscall.SIGQUIT, nil
	}
	return 0, fmt.Errorf("pgharness: unknown stop mode %v", m)
}

// Node is one PostgreSQL server: a data directory, a loopback port and, while
// running, a postmaster process that is a child of the test process.
// Methods are safe for concurrent use.
type Node struct {
	// Name names the node (node1, node2); a standby uses it as its
	// application_name, so it is how synchronous_standby_names refers to it.
	Name string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir is the node's directory: data/, the socket directory and the log.
	Dir string
	// DataDir is PGDATA.
	DataDir string

	env         *runtimeEnv
	appUser     string
	appPassword string

	mu     sync.Mutex
	proc   *os.Process
	exited chan struct{} // closed when proc has exited and been reaped
}

// newNode prepares (but does not initialise) a node under parent.
func newNode(env *runtimeEnv, parent, name, appUser, appPassword string) (*Node, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, name)
	n := &Node{
		Name:        name,
		Port:        port,
		Dir:         dir,
		DataDir:     filepath.Join(dir, "data"),
		env:         env,
		appUser:     appUser,
		appPassword: appPassword,
	}
	if err := env.mkdirOwned(dir); err != nil {
		return nil, err
	}
	if err := env.mkdirOwned(n.socketDir()); err != nil {
		return nil, err
	}
	return n, nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before PostgreSQL binds; the pair start-up retries on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgharness: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (n *Node) socketDir() string { return filepath.Join(n.Dir, "sock") }

// LogPath is the file the server's stderr (its log) goes to.
func (n *Node) LogPath() string { return filepath.Join(n.Dir, "postgres.log") }

// Addr is "127.0.0.1:<port>".
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// DSN is a libpq keyword/value connection string for db as user over TCP.
// It carries the password when user is the pair's application role.
func (n *Node) DSN(db, user string) string {
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=disable connect_timeout=5",
		n.Port, quoteConnValue(db), quoteConnValue(user))
	if user == n.appUser && n.appPassword != "" {
		dsn += " password=" + quoteConnValue(n.appPassword)
	}
	return dsn
}

// quoteConnValue quotes a libpq connection-string value.
func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Connect opens a pgx connection to db as user.
func (n *Node) Connect(ctx context.Context, db, user string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, n.DSN(db, user))
	if err != nil {
		return nil, fmt.Errorf("pgharness: connect to %s (%s) as %s: %w", n.Name, db, user, err)
	}
	return conn, nil
}

// Command returns a command running a PostgreSQL tool from the harness's
// binary directory (pg_rewind, pg_ctl, psql, ...) as the account the servers
// run as, in the node's directory. Use it for tools that touch DataDir.
func (n *Node) Command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	return n.env.command(ctx, n.Dir, tool, args...)
}

// Running reports whether the postmaster started by Start is still alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runningLocked()
}

func (n *Node) runningLocked() bool {
	if n.proc == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// PID is the postmaster's process id, or 0 when not running.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return 0
	}
	return n.proc.Pid
}

// Start starts the postmaster and waits until it accepts connections (a hot
// standby does once it is consistent). If ctx has no deadline, 60s applies.
// Processes left over from a Kill are waited for first.
func (n *Node) Start(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	exited, err := n.spawn(ctx)
	if err != nil {
		return err
	}
	return n.waitReady(ctx, exited)
}

func (n *Node) spawn(ctx context.Context) (<-chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.runningLocked() {
		return nil, fmt.Errorf("pgharness: start %s: already running as pid %d", n.Name, n.proc.Pid)
	}
	if err := killAllUnder(ctx, n.DataDir, n.DataDir); err != nil {
		return nil, fmt.Errorf("pgharness: start %s: clear leftovers: %w", n.Name, err)
	}
	logFile, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgharness: start %s: open log: %w", n.Name, err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor
	cmd := n.env.serverCommand(n.Dir, "postgres", "-D", n.DataDir)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgharness: start %s: %w", n.Name, err)
	}
	exited := make(chan struct{})
	n.proc = cmd.Process
	n.exited = exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return exited, nil
}

// waitReady polls until the server accepts a superuser connection, the
// process exits, or ctx ends.
func (n *Node) waitReady(ctx context.Context, exited <-chan struct{}) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, n.DSN("postgres", Superuser))
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-exited:
			return fmt.Errorf("pgharness: %s exited during start-up; log tail:\n%s", n.Name, n.LogTail(2048))
		case <-ctx.Done():
			return fmt.Errorf("pgharness: %s not ready: %w (last error: %v); log tail:\n%s", n.Name, ctx.Err(), err, n.LogTail(2048))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down in mode and waits for the postmaster to exit
// (after smart and fast, all its children have exited too). Stopping a node
// that is not running is a no-op.
func (n *Node) Stop(ctx context.Context, mode StopMode) error {
	sig, err := mode.signal()
	if err != nil {
		return err
	}
	n.mu.Lock()
	if !n.runningLocked() {
		n.mu.Unlock()
		return nil
	}
	proc, exited := n.proc, n.exited
	n.mu.Unlock()
	if err := proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgharness: stop %s (%v): %w", n.Name, mode, err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pgharness: stop %s (%v): %w", n.Name, mode, ctx.Err())
	}
}

// Kill crashes the node: SIGKILL to the postmaster and then to every process
// of the instance, as if the machine lost power (without losing the kernel's
// page cache). It returns once they are all gone. The next Start runs crash
// recovery. Killing a node that is not running only clears leftovers.
func (n *Node) Kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	n.mu.Lock()
	proc, exited := n.proc, n.exited
	n.mu.Unlock()
	if proc != nil {
		if err := proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("pgharness: kill %s: %w", n.Name, err)
		}
	}
	if err := killAllUnder(ctx, n.DataDir, n.DataDir); err != nil {
		return fmt.Errorf("pgharness: kill %s: %w", n.Name, err)
	}
	if exited != nil {
		select {
		case <-exited:
		case <-ctx.Done():
			return fmt.Errorf("pgharness: kill %s: postmaster not reaped: %w", n.Name, ctx.Err())
		}
	}
	return nil
}

// LogTail returns up to max bytes from the end of the server log.
func (n *Node) LogTail(max int64) string {
	f, err := os.Open(n.LogPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "(log: " + err.Error() + ")"
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return "(log: " + err.Error() + ")"
	}
	return string(buf)
}

// shutdown stops the node for cleanup: fast, then a crash if fast does not
// finish in time, then clears any leftover process.
func (n *Node) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var errs []error
	if err := n.Stop(ctx, StopFast); err != nil {
		errs = append(errs, err)
	}
	if err := n.Kill(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Controller adapts a node to the start/stop interface of the node agent
// (agent.Controller): the agent starts and stops the harness's server as it
// would run pg_ctl on a host.
type Controller struct{ Node *Node }

// Running reports whether the postmaster runs.
func (c Controller) Running() bool { return c.Node.Running() }

// Start starts the server and waits until it accepts connections.
func (c Controller) Start(ctx context.Context) error { return c.Node.Start(ctx) }

// StopImmediate stops the server in immediate mode.
func (c Controller) StopImmediate(ctx context.Context) error { return c.Node.Stop(ctx, StopImmediate) }

// DataDir is the node's PGDATA.
func (c Controller) DataDir() string { return c.Node.DataDir }

// Tool returns a PostgreSQL program run as the servers' account
// (agent.Rejoiner).
func (c Controller) Tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	return c.Node.Command(ctx, name, args...)
}

// SourceDSN reaches the server at addr (host:port) as the harness's
// superuser, as pg_rewind's source.
func (c Controller) SourceDSN(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "5432"
	}
	return fmt.Sprintf("host=%s port=%s dbname=postgres user=%s sslmode=disable connect_timeout=5 application_name=%s",
		quoteConnValue(host), quoteConnValue(port), Superuser, quoteConnValue(c.Node.Name))
}

// Follow makes the stopped node a standby of the server at addr.
func (c Controller) Follow(addr string) error { return c.Node.ConfigureStandby(addr) }

// StopFast stops the server cleanly (agent.GracefulStopper).
func (c Controller) StopFast(ctx context.Context) error { return c.Node.Stop(ctx, StopFast) }
