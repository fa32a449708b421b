package fence_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/fence"
)

// fakePostgres answers PostgreSQL's SSLRequest with 'N', as a server
// without TLS does, until it is shut down; then it refuses connections.
type fakePostgres struct {
	ln   net.Listener
	mu   sync.Mutex
	down bool
}

func newFakePostgres(t *testing.T) *fakePostgres {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePostgres{ln: ln}
	t.Cleanup(p.shutdown)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var req [8]byte
				if _, err := io.ReadFull(c, req[:]); err == nil {
					_, _ = c.Write([]byte{'N'})
				}
			}()
		}
	}()
	return p
}

func (p *fakePostgres) addr() string { return p.ln.Addr().String() }

// shutdown stops answering: new connections are refused.
func (p *fakePostgres) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.down {
		p.down = true
		_ = p.ln.Close()
	}
}

func TestPostgresProbe(t *testing.T) {
	pg := newFakePostgres(t)
	probe := fence.PostgresProbe(pg.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := probe(ctx); err != nil {
		t.Fatalf("probe of a live server: %v", err)
	}
	pg.shutdown()
	if err := probe(ctx); err == nil {
		t.Fatal("probe of a shut-down server answered")
	}
}

func TestPostgresProbeRelayWithoutUpstream(t *testing.T) {
	// A relay that accepts and closes (its upstream is gone) does not answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := fence.PostgresProbe(ln.Addr().String())(ctx); err == nil {
		t.Fatal("a relay that closes at once counted as PostgreSQL answering")
	}
}

func TestPostgresProbeSilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accept, never answer
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = fence.PostgresProbe(ln.Addr().String())(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the probe ignored its deadline: %s", took)
	}
}
