package patroni

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/demo"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// Scenarios, named as internal/demo's faults.
const (
	// ScenarioCrash: SIGKILL to the leader's Patroni and PostgreSQL.
	ScenarioCrash = "crash"
	// ScenarioBlackhole: the leader's Patroni and PostgreSQL frozen
	// (SIGSTOP): nothing answers, nothing is reset.
	ScenarioBlackhole = "blackhole"
	// ScenarioSwitchover: a planned switchover to the replica (REST
	// POST /switchover); the figure is the write-unavailable window.
	ScenarioSwitchover = "switchover"
)

// RunOptions configure one measured run.
type RunOptions struct {
	// Out receives the run's timeline (nil: discarded).
	Out io.Writer
	// Timeout bounds the failover (default 3 minutes).
	Timeout time.Duration
	// WriteInterval paces the client's writes (default 50 ms, as
	// internal/demo).
	WriteInterval time.Duration
	// HealTimeout bounds bringing the pair back before the run (default
	// 3 minutes).
	HealTimeout time.Duration
}

// Result is what one run measured, as internal/demo's Result.
type Result struct {
	Scenario   string
	OldPrimary string
	NewPrimary string
	// Fault is when the fault was injected (or the switchover requested).
	Fault time.Time
	// PromotedAt is when the new primary first answered 200 on /primary
	// (polled every 250 ms), the check HAProxy routes by.
	PromotedAt time.Time
	// FirstWriteAt is the first acknowledged write after the outage.
	FirstWriteAt time.Time
	Acked        int
	// Missing are acknowledged writes absent on the new primary.
	Missing []int64
	// DualWritable is how long both PostgreSQL servers accepted writes.
	DualWritable time.Duration
	// WriteGap is the last acknowledged write before the outage → the
	// first after it.
	WriteGap time.Duration
}

// Recovery is the time from the fault to the first acknowledged write.
func (r Result) Recovery() time.Duration { return r.FirstWriteAt.Sub(r.Fault) }

// Unavailable is the headline figure: the time to recovery, or for a
// switchover the write-unavailable window, as internal/demo.
func (r Result) Unavailable() time.Duration {
	if r.Scenario == ScenarioSwitchover {
		return r.WriteGap
	}
	return r.Recovery()
}

// Run heals the pair, then measures one scenario exactly as internal/demo
// measures Switchyard: the same client writer (through HAProxy here), at
// least 100 acknowledged writes before the fault, two-writable-nodes
// polled every 20 ms on both servers directly, and the acknowledged rows
// looked up on the new primary. After a crash or blackhole the former
// leader is killed and restarted to rejoin (not measured).
func (c *Cluster) Run(ctx context.Context, scenario string, opts RunOptions) (res Result, err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Timeout == 0 {
		opts.Timeout = 3 * time.Minute
	}
	if opts.WriteInterval == 0 {
		opts.WriteInterval = 50 * time.Millisecond
	}
	if opts.HealTimeout == 0 {
		opts.HealTimeout = 3 * time.Minute
	}
	if scenario != ScenarioCrash && scenario != ScenarioBlackhole && scenario != ScenarioSwitchover {
		return res, fmt.Errorf("scenario %q: want %q, %q or %q", scenario, ScenarioCrash, ScenarioBlackhole, ScenarioSwitchover)
	}
	res.Scenario = scenario
	leader, replica, err := c.Heal(ctx, opts.HealTimeout)
	if err != nil {
		return res, fmt.Errorf("before the run: %w", err)
	}
	res.OldPrimary = leader.Name
	if err := truncate(ctx, leader); err != nil {
		return res, err
	}
	w := startWriter(c.ClientAddr(), opts.WriteInterval)
	defer w.Stop()
	if err := c.waitFor(ctx, 30*time.Second, "100 acknowledged writes through HAProxy", func(context.Context) (bool, string) {
		n := len(w.Stats().Acked)
		return n >= 100, fmt.Sprintf("%d acknowledged", n)
	}); err != nil {
		return res, err
	}
	fmt.Fprintf(opts.Out, "%s: leader %s, synchronous standby %s, %d acknowledged writes through HAProxy\n",
		c.Settings.System(), leader.Name, replica.Name, len(w.Stats().Acked))

	dual := demo.WatchDSNs([]string{c.Nodes[0].SuperuserDSN(), c.Nodes[1].SuperuserDSN()}, 20*time.Millisecond)
	defer dual.Stop()
	switchDone := make(chan error, 1)
	res.Fault = time.Now()
	switch scenario {
	case ScenarioCrash:
		err = c.Crash(leader)
	case ScenarioBlackhole:
		err = c.Freeze(leader)
	case ScenarioSwitchover:
		go func() { switchDone <- switchover(ctx, leader.RESTAddr(), leader.Name, replica.Name) }()
	}
	if err != nil {
		return res, err
	}
	fmt.Fprintf(opts.Out, "  +%7.3fs  %s on %s\n", time.Since(res.Fault).Seconds(), scenario, leader.Name)

	if err := c.follow(ctx, opts, replica, w, switchDone, &res); err != nil {
		return res, err
	}
	stats := w.Stop()
	res.WriteGap = stats.Gap
	res.DualWritable = dual.Stop()
	res.Acked = len(stats.Acked)
	res.NewPrimary = replica.Name
	if res.Missing, err = missingOn(ctx, replica, stats.Acked); err != nil {
		return res, fmt.Errorf("checking acknowledged writes on %s: %w", replica.Name, err)
	}
	if scenario != ScenarioSwitchover {
		if err := c.Restart(leader); err != nil {
			return res, err
		}
	}
	return res, nil
}

// follow waits until the replica answers as the primary and the client's
// first write after the fault is acknowledged (and, for a switchover, the
// REST call returned).
func (c *Cluster) follow(ctx context.Context, opts RunOptions, replica *Node, w *localstack.Writer, switchDone chan error, res *Result) error {
	fctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	switched := res.Scenario != ScenarioSwitchover
	nextPoll := time.Now()
	for {
		if res.PromotedAt.IsZero() && !time.Now().Before(nextPoll) {
			pctx, pcancel := context.WithTimeout(fctx, time.Second)
			if isPrimary(pctx, replica.RESTAddr()) {
				res.PromotedAt = time.Now()
				fmt.Fprintf(opts.Out, "  +%7.3fs  %s answers 200 on /primary\n", res.PromotedAt.Sub(res.Fault).Seconds(), replica.Name)
			}
			pcancel()
			nextPoll = time.Now().Add(250 * time.Millisecond)
		}
		if st := w.Stats(); res.FirstWriteAt.IsZero() && !st.Recovery.IsZero() && st.Recovery.After(res.Fault) {
			res.FirstWriteAt = st.Recovery
			fmt.Fprintf(opts.Out, "  +%7.3fs  first acknowledged write through HAProxy after %s of write outage\n",
				st.Recovery.Sub(res.Fault).Seconds(), st.Outage.Round(time.Millisecond))
		}
		select {
		case err := <-switchDone:
			if err != nil {
				return err
			}
			switched = true
			fmt.Fprintf(opts.Out, "  +%7.3fs  switchover reported done\n", time.Since(res.Fault).Seconds())
		default:
		}
		if switched && !res.PromotedAt.IsZero() && !res.FirstWriteAt.IsZero() {
			return nil
		}
		select {
		case <-fctx.Done():
			return fmt.Errorf("%s: no recovery within %s (promoted at %v, first write at %v; logs in %s)",
				res.Scenario, opts.Timeout, !res.PromotedAt.IsZero(), !res.FirstWriteAt.IsZero(), c.Dir)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startWriter is internal/localstack's client writer (the very code that
// measures Switchyard), pointed at HAProxy. It only needs the client's
// credentials, which is all of the stack it reads.
func startWriter(clientAddr string, interval time.Duration) *localstack.Writer {
	s := &localstack.Stack{Pair: &pgharness.Pair{Options: pgharness.PairOptions{AppUser: AppUser, AppPassword: AppPassword}}}
	return s.StartWriter(clientAddr, interval)
}

// truncate empties the writer's table on the leader (each run's ids start
// at 1, as on a new local stack).
func truncate(ctx context.Context, leader *Node) error {
	conn, err := pgx.Connect(ctx, leader.SuperuserDSN())
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", leader.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `TRUNCATE `+localstack.WriterTable); err != nil {
		return fmt.Errorf("emptying %s on %s: %w", localstack.WriterTable, leader.Name, err)
	}
	return nil
}

// missingOn returns the acknowledged ids that n does not have (the query
// of localstack's MissingOn).
func missingOn(ctx context.Context, n *Node, acked []int64) ([]int64, error) {
	conn, err := pgx.Connect(ctx, n.SuperuserDSN())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", n.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT a FROM unnest($1::bigint[]) a WHERE NOT EXISTS (SELECT 1 FROM `+localstack.WriterTable+` w WHERE w.id = a) ORDER BY a`, acked)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", n.Name, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reading %s's answer: %w", n.Name, err)
	}
	return ids, nil
}
