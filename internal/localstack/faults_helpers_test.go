package localstack_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/faulttable"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
)

// The fault matrix (make faults, docs/faults.md): every case is a test
// that ends by logging one row, "faultrow <json>"; cmd/faulttable pairs the
// rows with the tests' results and prints the table. A test that fails
// before its row is a failed case with no row.

// faultRow is one line of the matrix, as the table tool reads it. Acked
// and Lost are nil when the case has no client writing (the table shows
// "-").
type faultRow = faulttable.Row

// reportFault logs the case's row, with the time the monitor saw both
// nodes writable (the monitor is stopped here).
func reportFault(t *testing.T, m *dualMonitor, row faultRow) {
	t.Helper()
	row.DualWritableMs = m.Stop().Milliseconds()
	logFaultRow(t, row)
}

// logFaultRow logs a row whose time with two writable nodes was measured
// elsewhere (the demo measures its own).
func logFaultRow(t *testing.T, row faultRow) {
	t.Helper()
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s%s", faulttable.RowMarker, b)
}

// prepareWriting creates the writer's table on the primary and starts
// the monitor of writable nodes: the start of every case with a client.
func prepareWriting(t *testing.T, s *localstack.Stack) *dualMonitor {
	t.Helper()
	if err := s.PrepareWriterTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return startDualMonitor(t, s)
}

// writerOutcome stops w and counts its acknowledged writes and those of
// them missing on node (the primary the case ends with).
func writerOutcome(t *testing.T, s *localstack.Stack, w *localstack.Writer, node string) (acked, lost *int) {
	t.Helper()
	st := w.Stop()
	missing, err := s.MissingOn(context.Background(), node, st.Acked)
	if err != nil {
		t.Fatalf("counting acknowledged writes missing on %s: %v", node, err)
	}
	a, l := len(st.Acked), len(missing)
	if l > 0 {
		t.Logf("acknowledged writes missing on %s: %v", node, missing)
	}
	return &a, &l
}

func intp(n int) *int { return &n }

// dualMonitor polls pg_is_in_recovery() on both nodes' direct addresses
// every monitorInterval and sums the time both answered writable (a node
// that does not answer within monitorTimeout counts as not writable). It
// is the measure of invariant 6 for every case: it must stay 0.
type dualMonitor struct {
	stopOnce sync.Once
	stopCh   chan struct{}
	done     chan struct{}
	both     time.Duration
	samples  int
}

const (
	monitorInterval = 25 * time.Millisecond
	monitorTimeout  = 150 * time.Millisecond
)

// startDualMonitor starts the monitor; it runs until Stop (or the test's
// cleanup).
func startDualMonitor(t *testing.T, s *localstack.Stack) *dualMonitor {
	t.Helper()
	m := &dualMonitor{stopCh: make(chan struct{}), done: make(chan struct{})}
	dsns := []string{s.Nodes["node1"].PG.DSN(localstack.DatabaseName, pgharness.Superuser),
		s.Nodes["node2"].PG.DSN(localstack.DatabaseName, pgharness.Superuser)}
	go m.run(dsns)
	t.Cleanup(func() { m.Stop() })
	return m
}

func (m *dualMonitor) run(dsns []string) {
	defer close(m.done)
	conns := make([]*pgx.Conn, len(dsns))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	tick := time.NewTicker(monitorInterval)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-m.stopCh:
			return
		case <-tick.C:
		}
		writable := make([]bool, len(dsns))
		var wg sync.WaitGroup
		for i := range dsns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				writable[i] = probeWritable(&conns[i], dsns[i])
			}()
		}
		wg.Wait()
		now := time.Now()
		m.samples++
		if writable[0] && writable[1] {
			m.both += now.Sub(last)
		}
		last = now
	}
}

// probeWritable asks one node whether it is out of recovery, over a kept
// connection (redialled after any error).
func probeWritable(conn **pgx.Conn, dsn string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), monitorTimeout)
	defer cancel()
	if *conn == nil {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return false
		}
		*conn = c
	}
	var in bool
	if err := (*conn).QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in); err != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), monitorTimeout)
		(*conn).Close(cctx)
		ccancel()
		*conn = nil
		return false
	}
	return !in
}

// Stop ends the monitor and returns the time both nodes were writable.
func (m *dualMonitor) Stop() time.Duration {
	m.stopOnce.Do(func() { close(m.stopCh) })
	<-m.done
	return m.both
}

// startFaultStack is startStack keeping the EventBridge rules whose names
// contain one of keep (e.g. "Cleanup", the alarm rule's state machine
// target), so the case runs with the detection and clean-up paths it
// needs.
func startFaultStack(t *testing.T, opts localstack.Options, keep ...string) *localstack.Stack {
	t.Helper()
	ctx := context.Background()
	opts.Logf = t.Logf
	if opts.StateMachineSleep == nil {
		opts.StateMachineSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, r := range s.Bus.Rules() {
		kept := false
		for _, k := range keep {
			kept = kept || strings.Contains(r, k)
		}
		if !kept {
			s.Bus.RemoveRule(r)
		}
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

// executionsSoFar summarises the executions of the state machine:
// "none", or each status with its error.
func executionsSoFar(s *localstack.Stack) (summary string, n int) {
	var parts []string
	for _, e := range s.SFN.Executions(s.StateMachineARN) {
		p := e.Status
		if e.Error != "" {
			p += " " + e.Error
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "no execution", 0
	}
	return strings.Join(parts, ", "), len(parts)
}

// startWriting starts a stack with opts (as startStack does), the dual
// monitor and a client writing through the overlay IP every 50 ms, and
// waits for its first 20 acknowledged writes.
func startWriting(t *testing.T, opts localstack.Options) (*localstack.Stack, *dualMonitor, *localstack.Writer) {
	t.Helper()
	s := startStack(t, opts)
	if err := s.PrepareWriterTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := startDualMonitor(t, s)
	w := s.StartWriter(s.ClientOverlay.Addr(), 50*time.Millisecond)
	ackedSince(t, w, 0, 20, 30*time.Second, "the first writes")
	return s, m, w
}
