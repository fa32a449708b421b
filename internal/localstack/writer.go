package localstack

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/pgharness"
)

// WriterTable is the table the client writer inserts into.
const WriterTable = "demo_writes"

// Writer is a client of the cluster: it connects through a client-facing
// address, as an application would, and inserts one row at a time. A row
// counts as acknowledged only when its COMMIT returned success.
type Writer struct {
	addr    string
	dsnUser string

	mu          sync.Mutex
	acked       []int64
	ackTimes    []time.Time
	failed      int
	lastAck     time.Time
	outageStart time.Time // first failure after the last success
	// lastAckBefore is the last success before outageStart.
	lastAckBefore time.Time
	recoveredAt   time.Time // first success after an outage
	outageLength  time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

// WriterStats is what a Writer saw.
type WriterStats struct {
	Acked []int64
	// AckTimes holds when each write in Acked was acknowledged.
	AckTimes []time.Time
	Failed   int
	LastAck  time.Time
	Outage   time.Duration // length of the last outage
	OutageAt time.Time     // when the last outage began ("" when none)
	Recovery time.Time     // first acknowledged write after it
	// Gap is the write-unavailable window of the last outage: from the last
	// acknowledged write before it to the first after it (Outage starts at
	// the first failed write, which may come later than the last success).
	Gap time.Duration
}

// PrepareWriterTable creates the writer's table on the primary.
func (s *Stack) PrepareWriterTable(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.Pair.Primary.DSN(DatabaseName, pgharness.Superuser))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+WriterTable+` (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp());
		GRANT ALL ON `+WriterTable+` TO `+s.Pair.Options.AppUser)
	return err
}

// StartWriter starts writing through addr (e.g. s.ClientOverlay.Addr())
// every interval until Stop.
//
// Each writer of a stack writes its own range of ids (the n-th from
// n×writerIDSpan+1), so several can share the table.
func (s *Stack) StartWriter(addr string, interval time.Duration) *Writer {
	s.mu.Lock()
	first := int64(s.writers)*writerIDSpan + 1
	s.writers++
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{addr: addr, cancel: cancel, done: make(chan struct{}),
		dsnUser: s.ClientDSN(addr)}
	go w.run(ctx, interval, first)
	return w
}

// ClientDSN is how an application connects through a client-facing
// address (a forwarder's addr) as the application user.
func (s *Stack) ClientDSN(addr string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%s dbname=%s user=%s password=%s sslmode=disable connect_timeout=2",
		portOf(addr), DatabaseName, s.Pair.Options.AppUser, s.Pair.Options.AppPassword)
}

// writerIDSpan is the size of one writer's id range.
const writerIDSpan = 1_000_000_000

func (w *Writer) run(ctx context.Context, interval time.Duration, first int64) {
	defer close(w.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for id := first; ; id++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := pgx.Connect(cctx, w.dsnUser)
			cancel()
			if err != nil {
				w.fail()
				continue
			}
			conn = c
		}
		// A synchronous commit whose standby is gone waits forever on the
		// server; only the client's deadline ends it (pgx then cancels).
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := conn.Exec(qctx, `INSERT INTO `+WriterTable+` (id) VALUES ($1)`, id)
		cancel()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			w.fail()
			continue
		}
		w.ack(id)
	}
}

func (w *Writer) fail() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failed++
	if w.outageStart.IsZero() || (!w.recoveredAt.IsZero() && w.recoveredAt.After(w.outageStart)) {
		w.outageStart = time.Now()
		w.lastAckBefore = w.lastAck
	}
}

func (w *Writer) ack(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.acked = append(w.acked, id)
	w.ackTimes = append(w.ackTimes, now)
	w.lastAck = now
	if !w.outageStart.IsZero() && (w.recoveredAt.IsZero() || w.recoveredAt.Before(w.outageStart)) {
		w.recoveredAt = now
		w.outageLength = now.Sub(w.outageStart)
	}
}

// Stats returns what the writer saw so far.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WriterStats{Acked: append([]int64(nil), w.acked...), AckTimes: append([]time.Time(nil), w.ackTimes...),
		Failed: w.failed, LastAck: w.lastAck}
	if !w.recoveredAt.IsZero() && w.recoveredAt.After(w.outageStart) {
		st.OutageAt, st.Recovery, st.Outage = w.outageStart, w.recoveredAt, w.outageLength
		if !w.lastAckBefore.IsZero() {
			st.Gap = w.recoveredAt.Sub(w.lastAckBefore)
		}
	}
	return st
}

// Stop ends the writer and returns its final stats.
func (w *Writer) Stop() WriterStats {
	w.cancel()
	<-w.done
	return w.Stats()
}

// MissingOn returns the acknowledged ids that node does not have.
func (s *Stack) MissingOn(ctx context.Context, node string, acked []int64) ([]int64, error) {
	n, ok := s.Nodes[node]
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	conn, err := pgx.Connect(ctx, n.PG.DSN(DatabaseName, pgharness.Superuser))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", node, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT a FROM unnest($1::bigint[]) a WHERE NOT EXISTS (SELECT 1 FROM `+WriterTable+` w WHERE w.id = a) ORDER BY a`, acked)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
