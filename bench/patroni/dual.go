package patroni

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/pgnode"
)

// dualWatch measures how long both members' PostgreSQL accepted writes at
// once, as internal/demo's DualWatch does for Switchyard: every interval
// it asks each server directly whether it is out of recovery; one that
// does not answer within 4 intervals counts as not writable.
type dualWatch struct {
	mu     sync.Mutex
	dual   time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

func watchDualWritable(nodes [2]*Node, interval time.Duration) *dualWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &dualWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := time.Now()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			writable := 0
			for _, n := range nodes {
				if writableNode(ctx, n, interval) {
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

func writableNode(ctx context.Context, n *Node, interval time.Duration) bool {
	cctx, cancel := context.WithTimeout(ctx, 4*interval)
	defer cancel()
	conn, err := pgnode.Connect(cctx, n.SuperuserDSN(), 4*interval)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	in, err := pgnode.InRecovery(cctx, conn)
	return err == nil && !in
}

// Stop ends the watch (once; later calls return the same total) and
// returns the time with two writable servers.
func (w *dualWatch) Stop() time.Duration {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dual
}
