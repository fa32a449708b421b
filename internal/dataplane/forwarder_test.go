package dataplane

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

func TestForwarderFollowsResolvePerConnection(t *testing.T) {
	a, b := startEcho(t, "A"), startEcho(t, "B")
	var target atomic.Value
	target.Store(a.addr())
	f, err := NewForwarder("eip", func() (string, error) { return target.Load().(string), nil }, quietLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	first := dial(t, f.Addr())
	first.roundTrip("hello", "A:hello")

	target.Store(b.addr())
	second := dial(t, f.Addr())
	second.roundTrip("hello", "B:hello")
	// An open connection stays on the backend it was relayed to.
	first.roundTrip("again", "A:again")

	if s := f.Stats(); s.Accepted != 2 || s.Refused != 0 || s.Open != 2 {
		t.Fatalf("stats = %+v, want 2 accepted, 0 refused, 2 open", s)
	}
	first.c.Close()
	a.waitEnded(t, 1)
	eventually(t, "open count 1", func() bool { return f.Stats().Open == 1 })
}

func TestForwarderRefusesWhenResolveFails(t *testing.T) {
	logger, logs := testLogger(t)
	f, err := NewForwarder("overlay", func() (string, error) {
		return "", errors.New("route table points at a stopped instance")
	}, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	expectRefused(t, f.Addr())
	if s := f.Stats(); s.Refused != 1 || s.Accepted != 0 {
		t.Fatalf("stats = %+v, want 1 refused", s)
	}
	if out := logs.String(); !strings.Contains(out, "connection refused") || !strings.Contains(out, "stopped instance") {
		t.Fatalf("log does not explain the refusal: %q", out)
	}
}

func TestForwarderRefusesUnreachableBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	f, err := NewForwarder("dns", func() (string, error) { return dead, nil }, quietLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectRefused(t, f.Addr())
	if s := f.Stats(); s.Refused != 1 || s.Accepted != 0 || s.Open != 0 {
		t.Fatalf("stats = %+v, want 1 refused, nothing open", s)
	}
}

func TestForwarderCutConnectionsTo(t *testing.T) {
	a, b := startEcho(t, "A"), startEcho(t, "B")
	var target atomic.Value
	target.Store(a.addr())
	f, err := NewForwarder("eip", func() (string, error) { return target.Load().(string), nil }, quietLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	toA1, toA2 := dial(t, f.Addr()), dial(t, f.Addr())
	toA1.roundTrip("1", "A:1")
	toA2.roundTrip("2", "A:2")
	target.Store(b.addr())
	toB := dial(t, f.Addr())
	toB.roundTrip("3", "B:3")

	if n := f.CutConnectionsTo(a.addr()); n != 2 {
		t.Fatalf("CutConnectionsTo(A) = %d, want 2", n)
	}
	toA1.expectClosed()
	toA2.expectClosed()
	a.waitEnded(t, 2) // the backend sees its sessions end too
	toB.roundTrip("4", "B:4")
	if n := f.CutConnectionsTo(a.addr()); n != 0 {
		t.Fatalf("second CutConnectionsTo(A) = %d, want 0", n)
	}
}

func TestForwarderClose(t *testing.T) {
	a := startEcho(t, "A")
	f, err := NewForwarder("eip", func() (string, error) { return a.addr(), nil }, quietLog(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, f.Addr())
	c.roundTrip("x", "A:x")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	if conn, err := net.Dial("tcp", f.Addr()); err == nil {
		conn.Close()
		t.Fatal("forwarder still accepts connections after Close")
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
