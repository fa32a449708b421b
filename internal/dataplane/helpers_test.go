package dataplane

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echoServer answers every line with "<name>:<line>".
type echoServer struct {
	name     string
	ln       net.Listener
	accepted atomic.Int64
	// ended receives one value per connection the server saw end.
	ended chan struct{}
	wg    sync.WaitGroup
}

func startEcho(t *testing.T, name string) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{name: name, ln: ln, ended: make(chan struct{}, 100)}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer func() { c.Close(); e.ended <- struct{}{} }()
				rd := bufio.NewReader(c)
				for {
					line, err := rd.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, name+":"+line); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return e
}

func (e *echoServer) addr() string { return e.ln.Addr().String() }

// waitEnded waits until the server has seen n more connections end.
func (e *echoServer) waitEnded(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-e.ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: connection end %d/%d not seen within 5s", e.name, i+1, n)
		}
	}
}

// client is a line-oriented test connection.
type client struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, rd: bufio.NewReader(c)}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one line within timeout.
func (c *client) recv(timeout time.Duration) (string, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	line, err := c.rd.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// roundTrip sends line and expects want back.
func (c *client) roundTrip(line, want string) {
	c.t.Helper()
	c.send(line)
	got, err := c.recv(5 * time.Second)
	if err != nil || got != want {
		c.t.Fatalf("round trip %q: got %q, %v; want %q", line, got, err, want)
	}
}

// expectClosed asserts the connection is ended by the other side (EOF or
// reset), not merely silent.
func (c *client) expectClosed() {
	c.t.Helper()
	_, err := c.recv(5 * time.Second)
	if err == nil {
		c.t.Fatal("connection still delivers data; want it closed")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatal("connection silent for 5s; want it closed")
	}
}

// expectSilent asserts nothing arrives within d.
func (c *client) expectSilent(d time.Duration) {
	c.t.Helper()
	got, err := c.recv(d)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("got %q, %v; want silence for %v", got, err, d)
	}
}

// logBuffer is a concurrency-safe log sink for slog.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.MultiWriter(buf, os.Stderr), nil)), buf
	}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// eventually polls cond every 20ms for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectRefused connects to addr and asserts the connection is refused:
// either the connect itself fails (on loopback the reset can beat the
// handshake) or the connection is closed without a byte.
func expectRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("dial %s timed out; want a refusal", addr)
		}
		return
	}
	defer c.Close()
	cl := &client{t: t, c: c, rd: bufio.NewReader(c)}
	cl.expectClosed()
}

func splitHostPortInt(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	return host, n, err
}

func itoa(n int) string { return strconv.Itoa(n) }

// quietLog keeps relay logs out of the test output unless -v.
func quietLog(t *testing.T) Option {
	l, _ := testLogger(t)
	return WithLogger(l)
}
