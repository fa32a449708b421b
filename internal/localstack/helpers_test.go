package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard/switchyard/internal/agent"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/snssim"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/pgharness"
	"github.com/switchyard/switchyard/internal/store"
)

// startStack starts a stack without the alarm rule (these tests trigger by
// hand), with the state machine's waits compressed, and waits for steady
// state.
func startStack(t *testing.T, opts localstack.Options) *localstack.Stack {
	t.Helper()
	ctx := context.Background()
	opts.Logf = t.Logf
	opts.StateMachineSleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, r := range s.Bus.Rules() {
		s.Bus.RemoveRule(r)
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

func readEvent(t *testing.T, s *localstack.Stack, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Options.RepoDir, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func requireSucceeded(t *testing.T, s *localstack.Stack, arn string) localExecution {
	t.Helper()
	status := waitExecution(t, s, arn)
	info, _ := s.SFN.Execution(arn)
	if status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s %s: %s", arn, status, info.Error, info.Cause)
	}
	var out localExecution
	if err := json.Unmarshal(info.Output, &out); err != nil {
		t.Fatalf("execution output: %v: %s", err, info.Output)
	}
	return out
}

// localExecution is the part of the state machine's output these tests read.
type localExecution struct {
	Assessment *struct {
		Decision    string `json:"decision"`
		Reason      string `json:"reason"`
		Forced      bool   `json:"forced"`
		LagBytes    int64  `json:"lagBytes"`
		BytesAtRisk int64  `json:"bytesAtRisk"`
	} `json:"assessment"`
	Fence *struct {
		Summary string `json:"summary"`
	} `json:"fence"`
}

func clusterRecord(t *testing.T, s *localstack.Stack) store.Record {
	t.Helper()
	rec, err := store.New(s.Client("test").DynamoDB, s.Config.Table).Get(context.Background(), s.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// grantCallTime is when the Promote step's record write (GrantPrimary, the
// only PutItem it makes) arrived at DynamoDB: no earlier than that can the
// new primary have been granted, nor promoted.
func grantCallTime(t *testing.T, s *localstack.Stack) time.Time {
	t.Helper()
	for _, c := range s.Server.Calls() {
		if c.AccessKeyID == "PromoteFunction" && c.Service == "dynamodb" && c.Operation == "PutItem" && c.ErrorCode == "" {
			return c.Time
		}
	}
	t.Fatal("the Promote step never wrote the record")
	return time.Time{}
}

// refuseForcedStop makes EC2 refuse the Fence step's StopInstances (an IAM
// or API failure): only the primary lease can fence, and the old primary's
// processes survive the failover.
func refuseForcedStop(s *localstack.Stack) {
	s.Server.Faults().Add(localaws.Fault{Service: "ec2", Operation: "StopInstances", AccessKeyID: "FenceFunction",
		FailNext: 100000, Error: localaws.Errorf(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")})
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func inRecovery(dsn string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	var in bool
	err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&in)
	return in, err
}

func walReceiverStatus(s *localstack.Stack, node string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.Nodes[node].PG.DSN(localstack.DatabaseName, pgharness.Superuser))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var st string
	err = conn.QueryRow(ctx, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')").Scan(&st)
	return st, err
}

func fenceMarker(n *localstack.Node) string {
	b, err := os.ReadFile(filepath.Join(n.PG.DataDir, agent.FenceMarker))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// commitResult is what one client saw of one write. A write counts as
// acknowledged when the client saw success, including success with the
// WARNING PostgreSQL sends when a cancel ends a commit's wait for the
// synchronous standby ("already committed locally").
type commitResult struct {
	ID         int64
	Acked      bool
	Warning    string
	Err        error
	At         time.Time // when the client got the answer
	InRecovery bool      // the server said it was in recovery (commitOnce only)
	Writable   bool      // the server said it was not in recovery (commitOnce only)
}

// connectWithNotices connects and collects WARNING notices; the returned
// function takes the ones seen so far.
func connectWithNotices(t *testing.T, dsn string) (*pgx.Conn, func() string) {
	t.Helper()
	conn, warn, err := dialWithNotices(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, warn
}

func dialWithNotices(ctx context.Context, dsn string) (*pgx.Conn, func() string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var warnings []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if n.Severity == "WARNING" {
			mu.Lock()
			warnings = append(warnings, n.Message+" "+n.Detail)
			mu.Unlock()
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return conn, func() string {
		mu.Lock()
		defer mu.Unlock()
		w := strings.Join(warnings, "; ")
		warnings = nil
		return w
	}, nil
}

// commitOnce connects and inserts id into the writer table; a commit still
// waiting after cancelAfter (0: never) is cancelled as a client's query
// timeout would; giveUp bounds the whole attempt.
func commitOnce(dsn string, id int64, cancelAfter, giveUp time.Duration) commitResult {
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	res := commitResult{ID: id}
	conn, warn, err := dialWithNotices(ctx, dsn)
	if err != nil {
		res.Err, res.At = err, time.Now()
		return res
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&res.InRecovery); err == nil {
		res.Writable = !res.InRecovery
	}
	res.Acked, res.Warning, res.Err = insertWithCancel(ctx, conn, warn, id, cancelAfter)
	res.At = time.Now()
	return res
}

func insertWithCancel(ctx context.Context, conn *pgx.Conn, warn func() string, id int64, cancelAfter time.Duration) (bool, string, error) {
	var timer *time.Timer
	if cancelAfter > 0 {
		timer = time.AfterFunc(cancelAfter, func() {
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = conn.PgConn().CancelRequest(cctx)
		})
	}
	_, err := conn.Exec(ctx, `INSERT INTO `+localstack.WriterTable+` (id) VALUES ($1)`, id)
	if timer != nil {
		timer.Stop()
	}
	return err == nil, warn(), err
}

// directWriter is a client with a direct connection to one node (a client
// on that node's side of a partition): one insert at a time, every commit
// still waiting after cancelAfter cancelled.
type directWriter struct {
	mu      sync.Mutex
	results []commitResult
	stopCh  chan struct{}
	done    chan struct{}
}

func startDirectWriter(dsn string, interval, cancelAfter time.Duration) *directWriter {
	w := &directWriter{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var conn *pgx.Conn
		var warn func() string
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		for id := int64(1); ; id++ {
			select {
			case <-w.stopCh:
				return
			case <-time.After(interval):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if conn == nil {
				c, wf, err := dialWithNotices(ctx, dsn)
				if err != nil {
					cancel()
					w.add(commitResult{ID: id, Err: err, At: time.Now()})
					continue
				}
				conn, warn = c, wf
			}
			acked, warning, err := insertWithCancel(ctx, conn, warn, id, cancelAfter)
			cancel()
			w.add(commitResult{ID: id, Acked: acked, Warning: warning, Err: err, At: time.Now()})
			if err != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
	}()
	return w
}

func (w *directWriter) add(r commitResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.results = append(w.results, r)
}

func (w *directWriter) acked() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []int64
	for _, r := range w.results {
		if r.Acked {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func (w *directWriter) stop() []commitResult {
	close(w.stopCh)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]commitResult(nil), w.results...)
}

// waitNotice waits for the notify function to publish a message whose
// subject contains each of parts, and returns it.
func waitNotice(t *testing.T, s *localstack.Stack, limit time.Duration, parts ...string) snssim.Message {
	t.Helper()
	var found snssim.Message
	waitFor(t, limit, fmt.Sprintf("a notice %q", parts), func() bool {
		for _, m := range s.SNS.Published(s.NotificationTopicARN) {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(m.Subject, p)
			}
			if all {
				found = m
				return true
			}
		}
		return false
	})
	return found
}
