package dataplane

import (
	"net"
	"strconv"
	"sync"
)

// CutMode is how a Link fails.
type CutMode int

const (
	// Refuse resets open connections and every new one at once.
	Refuse CutMode = iota + 1
	// Drop is a blackhole: connections are accepted, nothing passes, open
	// connections stall; held bytes flow again after Heal.
	Drop
)

// String names the mode.
func (m CutMode) String() string {
	switch m {
	case Refuse:
		return "refuse"
	case Drop:
		return "drop"
	}
	return "CutMode(" + strconv.Itoa(int(m)) + ")"
}

// Link is one cuttable network path to a fixed upstream: components that
// should go through it connect to Addr instead of the upstream. Methods are
// safe for concurrent use.
type Link struct {
	r        *relay
	upstream string
	gate     *gate

	mu  sync.Mutex
	cut CutMode // 0 when healthy
}

// NewLink listens on 127.0.0.1:0 and relays to upstream (host:port).
func NewLink(name, upstream string, opts ...Option) (*Link, error) {
	r, err := newRelay("link", name, opts)
	if err != nil {
		return nil, err
	}
	l := &Link{r: r, upstream: upstream, gate: newGate()}
	r.serve(l.handle)
	return l, nil
}

func (l *Link) handle(client net.Conn) {
	if l.Mode() == Refuse {
		l.r.refuse(client, "link cut (refuse)", nil)
		resetConn(client)
		return
	}
	s := newSession(client)
	if !l.r.track(s) {
		resetConn(client)
		return
	}
	if l.Mode() == Refuse { // cut while this connection was being registered
		if s.decide() {
			l.r.refuse(client, "link cut (refuse)", nil)
		}
		s.reset()
		return
	}
	// A dropped link holds the new connection here until Heal (or a
	// Refuse cut, or Close, ends it): nothing reaches the upstream.
	select {
	case <-l.gate.passing():
	case <-s.done: // ended (and counted) by a Refuse cut or Close
		return
	}
	l.r.connectAndPipe(s, l.upstream, l.gate)
}

// Addr is the address to connect to instead of the upstream.
func (l *Link) Addr() string { return l.r.addr() }

// Upstream is the address the link relays to.
func (l *Link) Upstream() string { return l.upstream }

// Mode returns the current cut, or 0 when the link is healthy.
func (l *Link) Mode() CutMode {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// Cut breaks the link in mode. Cutting an already cut link switches mode.
// An unknown mode is ignored (and logged).
func (l *Link) Cut(mode CutMode) {
	if mode != Refuse && mode != Drop {
		l.r.log.Warn("unknown cut mode ignored", "mode", mode.String())
		return
	}
	l.mu.Lock()
	l.cut = mode
	l.mu.Unlock()
	if mode == Drop {
		l.gate.close()
		l.r.log.Info("link cut", "mode", mode.String())
		return
	}
	n := l.r.resetWhere(func(*session) bool { return true })
	l.gate.lift() // a refusing link holds nothing: new connections are reset
	l.r.log.Info("link cut", "mode", mode.String(), "reset", n)
}

// Heal restores the link: new connections pass again and connections held
// by a Drop resume where they stopped.
func (l *Link) Heal() {
	l.mu.Lock()
	l.cut = 0
	l.mu.Unlock()
	l.gate.lift()
	l.r.log.Info("link healed")
}

// Stats returns the connection counters.
func (l *Link) Stats() Stats { return l.r.stats() }

// Close stops listening, resets open connections and waits for the relay's
// goroutines to finish.
func (l *Link) Close() error { return l.r.close() }
