package patroni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Crash kills a member: SIGKILL to its Patroni and its postmaster, then to
// every process of that PostgreSQL left (the node is lost).
func (c *Cluster) Crash(n *Node) error {
	if err := killTree(n.Dir, n.DataDir, c.patroniPID(n), postmasterPID(n.DataDir)); err != nil {
		return fmt.Errorf("crashing %s: %w", n.Name, err)
	}
	return nil
}

// Freeze stops a member dead: SIGSTOP to its Patroni, its postmaster and
// every other PostgreSQL process. It answers nothing and resets nothing
// (connections hang, like a node cut off the network); Restart kills it.
func (c *Cluster) Freeze(n *Node) error {
	if err := freezeTree(n.Dir, n.DataDir, c.patroniPID(n), postmasterPID(n.DataDir)); err != nil {
		return fmt.Errorf("freezing %s: %w", n.Name, err)
	}
	return nil
}

func (c *Cluster) patroniPID(n *Node) int {
	if n.patroni == nil || n.patroni.exited() {
		return 0
	}
	return n.patroni.pid()
}

// Restart kills whatever is left of a member (frozen processes included)
// and starts its Patroni again, which rejoins it as a replica (pg_rewind
// when its timeline diverged).
func (c *Cluster) Restart(n *Node) error {
	if err := killTree(n.Dir, n.DataDir, c.patroniPID(n), postmasterPID(n.DataDir)); err != nil {
		return fmt.Errorf("restarting %s: %w", n.Name, err)
	}
	if n.patroni != nil {
		<-n.patroni.done
	}
	return c.startPatroni(n)
}

// reinit rebuilds a member from scratch: kill it, remove its data
// directory and start Patroni, which clones the leader (pg_basebackup).
func (c *Cluster) reinit(n *Node) error {
	if err := killTree(n.Dir, n.DataDir, c.patroniPID(n), postmasterPID(n.DataDir)); err != nil {
		return fmt.Errorf("reinitialising %s: %w", n.Name, err)
	}
	if n.patroni != nil {
		<-n.patroni.done
	}
	if err := os.RemoveAll(n.DataDir); err != nil {
		return fmt.Errorf("reinitialising %s: removing its data directory: %w", n.Name, err)
	}
	return c.startPatroni(n)
}

// Heal brings the cluster back to a healthy pair: it restarts any member
// whose Patroni is gone, waits, and if the pair is still not healthy
// rebuilds the member that is not the leader.
func (c *Cluster) Heal(ctx context.Context, limit time.Duration) (leader, replica *Node, err error) {
	for _, n := range c.Nodes {
		if n.patroni == nil || n.patroni.exited() {
			c.logf("%s: restarting %s's Patroni", c.Settings.System(), n.Name)
			if err := c.Restart(n); err != nil {
				return nil, nil, err
			}
		}
	}
	leader, replica, err = c.WaitHealthy(ctx, limit)
	if err == nil || ctx.Err() != nil {
		return leader, replica, err
	}
	l, _, _, rerr := c.Roles(ctx)
	if rerr != nil {
		return nil, nil, fmt.Errorf("healing: %w", errors.Join(err, rerr))
	}
	bad := c.other(l)
	c.logf("%s: %s did not rejoin (%v); rebuilding it from %s", c.Settings.System(), bad.Name, err, l.Name)
	if err := c.reinit(bad); err != nil {
		return nil, nil, err
	}
	return c.WaitHealthy(ctx, 2*limit)
}
