package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Controller starts and stops the local PostgreSQL. The agent is its only
// user: nothing else should start PostgreSQL (on a host, PostgreSQL's own
// systemd unit is disabled and the agent's unit has Restart=always).
type Controller interface {
	// Running reports whether the postmaster runs.
	Running() bool
	// Start starts PostgreSQL in the mode its data directory says (a
	// standby when standby.signal exists) and returns once it accepts
	// connections.
	Start(ctx context.Context) error
	// StopImmediate stops PostgreSQL at once (pg_ctl -m immediate): every
	// session ends without committing anything more.
	StopImmediate(ctx context.Context) error
	// DataDir is the data directory (for standby.signal and the fence
	// marker).
	DataDir() string
}

// FenceMarker is the file the agent writes into the data directory when it
// fences its node; it holds the reason. While it exists the agent does not
// start PostgreSQL: the node needs a rejoin (pg_rewind) first.
const FenceMarker = "switchyard.fenced"

// markFenced writes standby.signal and the fence marker, so that any later start
// of this data directory comes up read-only, in recovery.
func markFenced(dataDir, reason string) error {
	for name, content := range map[string]string{"standby.signal": "", FenceMarker: reason + "\n"} {
		if err := writeLikeDir(filepath.Join(dataDir, name), content); err != nil {
			return fmt.Errorf("fencing data directory %s: %w", dataDir, err)
		}
	}
	return nil
}

// fencedReason returns the fence marker's reason, or "" when the node is
// not fenced.
func fencedReason(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, FenceMarker))
	if err != nil {
		return ""
	}
	if r := strings.TrimSpace(string(b)); r != "" {
		return r
	}
	return "fenced (no reason recorded)"
}

// writeLikeDir writes a file owned like its directory (PostgreSQL refuses
// files it does not own in some places; the agent may run as root).
func writeLikeDir(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	if uid, gid, ok := owner(st); ok && os.Geteuid() == 0 {
		return os.Chown(path, uid, gid)
	}
	return nil
}

// PGCtl controls PostgreSQL with pg_ctl, as the agent does on a host.
type PGCtl struct {
	BinDir string // e.g. /usr/lib/postgresql/15/bin
	Data   string // PGDATA
	// LogFile receives the server log when pg_ctl starts it ("" for none).
	LogFile string
	// RunAs wraps the command (e.g. ["runuser", "-u", "postgres", "--"])
	// when the agent does not run as the PostgreSQL owner.
	RunAs []string
	// RejoinDSN is the conninfo, without host and port, that a rejoin's
	// pg_rewind reads the new primary with (and a re-clone's pg_basebackup
	// copies it with) and that becomes the rejoined standby's
	// primary_conninfo (pg_rewind --write-recovery-conf, pg_basebackup -R):
	// a role with REPLICATION and pg_rewind's function grants
	// (docs/operations.md).
	RejoinDSN string
	// Node is this node's name: the standby's application_name, which
	// synchronous_standby_names on the primary names.
	Node string
}

// Tool returns a program of BinDir run as the PostgreSQL owner
// (agent.Rejoiner).
func (p PGCtl) Tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, p.RunAs...), filepath.Join(p.BinDir, name))
	argv = append(argv, args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// SourceDSN is RejoinDSN at addr (host:port), as this node.
func (p PGCtl) SourceDSN(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "5432"
	}
	return fmt.Sprintf("host=%s port=%s %s application_name=%s", host, port, p.RejoinDSN, p.Node)
}

// Follow has nothing to add: pg_rewind --write-recovery-conf (a re-clone:
// pg_basebackup -R) wrote standby.signal and primary_conninfo from
// SourceDSN.
func (p PGCtl) Follow(string) error { return nil }

// DataDir is the data directory.
func (p PGCtl) DataDir() string { return p.Data }

func (p PGCtl) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return p.Tool(ctx, "pg_ctl", args...)
}

// Running reports whether the postmaster of Data runs, deciding as
// pg_ctl status does (postmaster.pid names a live process) without
// starting two processes (runuser, pg_ctl) at every loop. When the agent
// cannot read postmaster.pid (it runs as neither root nor the data
// directory's owner), it asks pg_ctl status.
func (p PGCtl) Running() bool {
	if alive, known := postmasterAlive(p.Data); known {
		return alive
	}
	return p.cmd(context.Background(), "status", "-D", p.Data).Run() == nil
}

// Start runs pg_ctl start -w.
func (p PGCtl) Start(ctx context.Context) error {
	args := []string{"start", "-w", "-D", p.Data}
	if p.LogFile != "" {
		args = append(args, "-l", p.LogFile)
	}
	if out, err := p.cmd(ctx, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// StopFast runs pg_ctl stop -m fast -w (agent.GracefulStopper).
func (p PGCtl) StopFast(ctx context.Context) error {
	out, err := p.cmd(ctx, "stop", "-m", "fast", "-w", "-D", p.Data).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && !p.Running() {
		return nil // not running: nothing to stop
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m fast: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// StopImmediate runs pg_ctl stop -m immediate -w.
func (p PGCtl) StopImmediate(ctx context.Context) error {
	out, err := p.cmd(ctx, "stop", "-m", "immediate", "-w", "-D", p.Data).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && !p.Running() {
		return nil // not running: nothing to stop
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
