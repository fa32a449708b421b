package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// heartbeat is what one health check makes the probe publish.
type heartbeat int

const (
	// heartbeatNone: a failure is being confirmed or recovered locally;
	// publish no Heartbeat value.
	heartbeatNone heartbeat = iota
	heartbeatHealthy
	heartbeatUnhealthy
)

// action is what the recovery policy asks the probe to do now.
type action int

const (
	actNothing action = iota
	actRestart
)

// RecoveryPolicy says when a failing PostgreSQL is restarted locally and
// when it is declared unhealthy, the way SIOS LifeKeeper tries local
// recovery before failing over.
type RecoveryPolicy struct {
	// FailureThreshold is how many consecutive failed checks confirm a
	// failure (a single blip is not acted on).
	FailureThreshold int
	// MaxRestarts restarts are allowed within Window (sliding). 0, or no
	// restart command, disables local recovery: a confirmed failure is
	// reported at once.
	MaxRestarts int
	Window      time.Duration
	// Grace is how long after a restart failed checks are attributed to
	// PostgreSQL still starting up, before the next restart is tried.
	Grace time.Duration
}

// recovery is the local-recovery state machine. It is pure (time is passed
// in) and used by one goroutine.
type recovery struct {
	policy   RecoveryPolicy
	failures int         // consecutive failed checks
	restarts []time.Time // restarts within the window
	gaveUp   bool        // declared unhealthy in this failure episode
}

// observe folds one check result into the state and returns what to
// publish and do.
func (r *recovery) observe(now time.Time, healthy bool) (heartbeat, action) {
	r.expire(now)
	if healthy {
		r.failures, r.gaveUp = 0, false
		return heartbeatHealthy, actNothing
	}
	r.failures++
	switch {
	case r.gaveUp:
		return heartbeatUnhealthy, actNothing
	case r.failures < max(r.policy.FailureThreshold, 1):
		return heartbeatNone, actNothing
	case len(r.restarts) > 0 && now.Sub(r.restarts[len(r.restarts)-1]) < r.policy.Grace:
		return heartbeatNone, actNothing
	case len(r.restarts) < r.policy.MaxRestarts:
		r.restarts = append(r.restarts, now)
		return heartbeatNone, actRestart
	}
	r.gaveUp = true
	return heartbeatUnhealthy, actNothing
}

// restartsInWindow is how many restarts count against the budget now.
func (r *recovery) restartsInWindow(now time.Time) int {
	r.expire(now)
	return len(r.restarts)
}

func (r *recovery) expire(now time.Time) {
	keep := r.restarts[:0]
	for _, t := range r.restarts {
		if now.Sub(t) < r.policy.Window {
			keep = append(keep, t)
		}
	}
	r.restarts = keep
}

// Restarter brings a stopped PostgreSQL back (local recovery).
type Restarter interface {
	Restart(ctx context.Context) error
}

// CommandRestarter runs a command to restart PostgreSQL, e.g.
// ["systemctl", "restart", "postgresql@16-main"] or
// ["/bin/sh", "-c", "pg_ctlcluster 16 main start"].
type CommandRestarter struct {
	Argv []string
}

// Restart runs the command and waits for it, at most until ctx ends (the
// process is then killed). A non-zero exit is an error carrying the tail
// of the command's output.
func (c CommandRestarter) Restart(ctx context.Context) error {
	if len(c.Argv) == 0 {
		return fmt.Errorf("restart command is empty")
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Do not wait for grandchildren (a daemonised postmaster) holding the
	// output pipe open.
	cmd.WaitDelay = time.Second
	// ErrWaitDelay alone means the command succeeded but left a child
	// holding its output open: that is a started daemon, not a failure.
	if err := cmd.Run(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return fmt.Errorf("restart command %q: %w: %s", strings.Join(c.Argv, " "), err, tail(out.String(), 512))
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
