package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/pgnode"
)

// DualWatch measures how long both nodes accepted writes at once (the
// split brain the design forbids), from outside the network faults: it
// asks each node's PostgreSQL directly, every interval, whether it is out
// of recovery. A node that does not answer counts as not writable.
type DualWatch struct {
	mu     sync.Mutex
	dual   time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchDualWritable starts a DualWatch over stack's nodes.
func WatchDualWritable(stack *localstack.Stack, interval time.Duration) *DualWatch {
	var dsns []string
	for _, n := range stack.Nodes {
		dsns = append(dsns, n.PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	}
	return WatchDSNs(dsns, interval)
}

// WatchDSNs starts a DualWatch over the servers dsns reach (superuser
// connection strings): any pair of PostgreSQL servers, Switchyard's or
// another system's (bench/patroni).
func WatchDSNs(dsns []string, interval time.Duration) *DualWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &DualWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := time.Now()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			writable := 0
			for _, dsn := range dsns {
				if writableAt(ctx, dsn, interval) {
					writable++
				}
			}
			now := time.Now()
			if writable > 1 {
				w.mu.Lock()
				w.dual += now.Sub(last)
				w.mu.Unlock()
			}
			last = now
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// writableAt reports whether the server at dsn answers within 4 intervals
// and is out of recovery.
func writableAt(ctx context.Context, dsn string, interval time.Duration) bool {
	cctx, cancel := context.WithTimeout(ctx, 4*interval)
	defer cancel()
	conn, err := pgnode.Connect(cctx, dsn, 4*interval)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	in, err := pgnode.InRecovery(cctx, conn)
	return err == nil && !in
}

// Stop ends the watch and returns the total time with two writable nodes.
func (w *DualWatch) Stop() time.Duration {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dual
}

// startSwitchover starts the planned switchover of events/switchover.json,
// as an operator would from the console.
func startSwitchover(ctx context.Context, stack *localstack.Stack) error {
	input, err := os.ReadFile(filepath.Join(stack.Options.RepoDir, "events", "switchover.json"))
	if err != nil {
		return fmt.Errorf("reading the switchover input: %w", err)
	}
	_, err = stack.Client("operator").SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(stack.StateMachineARN),
		Input: aws.String(string(input))})
	if err != nil {
		return fmt.Errorf("starting the switchover: %w", err)
	}
	return nil
}
