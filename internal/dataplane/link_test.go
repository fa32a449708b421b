package dataplane

import (
	"net"
	"testing"
	"time"
)

// silence is how long a stalled connection must stay quiet in these tests.
// A correct Drop never delivers, so the check cannot fail spuriously.
const silence = 300 * time.Millisecond

func newTestLink(t *testing.T, upstream string) *Link {
	t.Helper()
	logger, _ := testLogger(t)
	l, err := NewLink("test", upstream, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLinkPassesTraffic(t *testing.T) {
	e := startEcho(t, "E")
	l := newTestLink(t, e.addr())
	if l.Upstream() != e.addr() || l.Mode() != 0 {
		t.Fatalf("upstream %q mode %v", l.Upstream(), l.Mode())
	}
	c := dial(t, l.Addr())
	c.roundTrip("ping", "E:ping")
	c.roundTrip("pong", "E:pong")
	if s := l.Stats(); s.Accepted != 1 || s.Open != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestLinkRefuse(t *testing.T) {
	e := startEcho(t, "E")
	l := newTestLink(t, e.addr())
	open := dial(t, l.Addr())
	open.roundTrip("a", "E:a")

	l.Cut(Refuse)
	if l.Mode() != Refuse {
		t.Fatalf("mode = %v", l.Mode())
	}
	open.expectClosed()
	e.waitEnded(t, 1)
	before := e.accepted.Load()
	expectRefused(t, l.Addr())
	if got := e.accepted.Load(); got != before {
		t.Fatalf("upstream saw %d new connections while refused", got-before)
	}
	if s := l.Stats(); s.Refused != 1 || s.Open != 0 {
		t.Fatalf("stats = %+v, want 1 refused, none open", s)
	}

	l.Heal()
	dial(t, l.Addr()).roundTrip("b", "E:b")
}

func TestLinkDropStallsAndHealResumes(t *testing.T) {
	e := startEcho(t, "E")
	l := newTestLink(t, e.addr())
	open := dial(t, l.Addr())
	open.roundTrip("before", "E:before")

	l.Cut(Drop)
	open.send("during")
	open.expectSilent(silence)

	before := e.accepted.Load()
	held := dial(t, l.Addr()) // the connect succeeds: a blackhole, not a refusal
	held.send("new")
	held.expectSilent(silence)
	if got := e.accepted.Load(); got != before {
		t.Fatalf("upstream saw a connection through a dropped link")
	}
	if s := l.Stats(); s.Open != 2 || s.Accepted != 1 {
		t.Fatalf("stats during drop = %+v, want 2 open, 1 accepted", s)
	}

	l.Heal()
	// Nothing was lost: held bytes arrive in order once the path heals.
	if got, err := open.recv(5 * time.Second); err != nil || got != "E:during" {
		t.Fatalf("open connection after heal: %q, %v", got, err)
	}
	if got, err := held.recv(5 * time.Second); err != nil || got != "E:new" {
		t.Fatalf("held connection after heal: %q, %v", got, err)
	}
	open.roundTrip("after", "E:after")
}

func TestLinkRefuseEndsHeldConnections(t *testing.T) {
	e := startEcho(t, "E")
	l := newTestLink(t, e.addr())
	open := dial(t, l.Addr())
	open.roundTrip("x", "E:x")
	l.Cut(Drop)
	held := dial(t, l.Addr())
	eventually(t, "held connection registered", func() bool { return l.Stats().Open == 2 })

	l.Cut(Refuse)
	open.expectClosed()
	held.expectClosed()
	eventually(t, "no open connections", func() bool { return l.Stats().Open == 0 })
	if s := l.Stats(); s.Accepted != 1 || s.Refused != 1 {
		t.Fatalf("stats = %+v, want 1 accepted, 1 refused", s)
	}
}

func TestLinkClose(t *testing.T) {
	e := startEcho(t, "E")
	l := newTestLink(t, e.addr())
	c := dial(t, l.Addr())
	c.roundTrip("x", "E:x")
	l.Cut(Drop)
	held := dial(t, l.Addr())
	eventually(t, "held connection registered", func() bool { return l.Stats().Open == 2 })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	held.expectClosed()
	if conn, err := net.Dial("tcp", l.Addr()); err == nil {
		conn.Close()
		t.Fatal("link still accepts connections after Close")
	}
}
