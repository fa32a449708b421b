package dataplane

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Option adjusts a Forwarder or a Link.
type Option func(*relay)

// WithLogger sends the relay's log lines to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(r *relay) { r.log = l } }

// WithDialTimeout bounds the connection to a backend (default 5s).
func WithDialTimeout(d time.Duration) Option { return func(r *relay) { r.dialTimeout = d } }

// Stats counts a relay's connections. Every incoming connection ends up
// counted once, as Accepted (relayed to a backend) or Refused (closed
// without one); Open is the number of connections currently held, including
// connections a dropped Link holds before they reach a backend.
type Stats struct {
	Accepted int64
	Refused  int64
	Open     int
}

// relay is the core shared by Forwarder and Link: a loopback listener, the
// set of live sessions, counters and logging.
type relay struct {
	name        string
	ln          net.Listener
	log         *slog.Logger
	dialTimeout time.Duration

	accepted atomic.Int64
	refused  atomic.Int64

	mu       sync.Mutex
	sessions map[*session]struct{}
	closed   bool
	wg       sync.WaitGroup
}

func newRelay(kind, name string, opts []Option) (*relay, error) {
	r := &relay{
		name:        name,
		log:         slog.Default(),
		dialTimeout: 5 * time.Second,
		sessions:    make(map[*session]struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	r.log = r.log.With("component", "dataplane."+kind, "name", name)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dataplane: %s %s: listen: %w", kind, name, err)
	}
	r.ln = ln
	return r, nil
}

// serve accepts connections until the listener closes, handing each to
// handle in its own goroutine.
func (r *relay) serve(handle func(net.Conn)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				handle(c)
			}()
		}
	}()
}

// refuse counts and logs a connection that will not be relayed; the caller
// then resets it (after counting, so whoever sees the reset sees the count).
func (r *relay) refuse(c net.Conn, reason string, err error) {
	r.refused.Add(1)
	r.log.Info("connection refused", "client", c.RemoteAddr().String(), "reason", reason, "err", err)
}

// track registers s until it ends; false when the relay is closing.
func (r *relay) track(s *session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.sessions[s] = struct{}{}
	s.onEnd = func() { r.untrack(s) }
	return true
}

func (r *relay) untrack(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sessions, s)
}

// resetWhere resets every session matching match and returns how many.
func (r *relay) resetWhere(match func(*session) bool) int {
	r.mu.Lock()
	var victims []*session
	for s := range r.sessions {
		if match(s) {
			victims = append(victims, s)
		}
	}
	r.mu.Unlock()
	for _, s := range victims {
		if s.decide() { // held before reaching a backend: refused
			r.refused.Add(1)
		}
		s.reset()
	}
	return len(victims)
}

// connectAndPipe connects to a backend and relays s to it through g (nil: never held).
// It returns once both directions are finished.
func (r *relay) connectAndPipe(s *session, backendAddr string, g *gate) {
	backend, err := net.DialTimeout("tcp", backendAddr, r.dialTimeout)
	if err != nil {
		if s.decide() {
			r.refuse(s.client, "backend unreachable", err)
		}
		s.reset()
		return
	}
	if !s.attach(backend, backendAddr) { // ended (and counted) meanwhile
		resetConn(backend)
		return
	}
	r.accepted.Add(1)
	r.log.Debug("connection relayed", "client", s.client.RemoteAddr().String(), "backend", backendAddr)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.pipe(backend, s.client, g) }()
	go func() { defer wg.Done(); s.pipe(s.client, backend, g) }()
	wg.Wait()
	s.close()
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) stats() Stats {
	r.mu.Lock()
	open := len(r.sessions)
	r.mu.Unlock()
	return Stats{Accepted: r.accepted.Load(), Refused: r.refused.Load(), Open: open}
}

// close stops accepting, closes every session and waits for the goroutines.
func (r *relay) close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	err := r.ln.Close()
	r.resetWhere(func(*session) bool { return true })
	r.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("dataplane: close %s: %w", r.name, err)
	}
	return nil
}

// session is one client connection and, once connected, its backend.
type session struct {
	client net.Conn

	mu          sync.Mutex
	backend     net.Conn
	backendAddr string
	done        chan struct{} // closed when the session is over
	ended       bool
	decided     bool   // counted as accepted or refused
	onEnd       func() // set by relay.track: leave the relay's session set
}

func newSession(client net.Conn) *session {
	return &session{client: client, done: make(chan struct{})}
}

// attach records the backend and decides the session as accepted; false
// if the session already ended.
func (s *session) attach(backend net.Conn, addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.decided {
		return false
	}
	s.backend, s.backendAddr = backend, addr
	s.decided = true
	return true
}

// decide marks the session's outcome as counted; false if it already was.
// Every session is counted exactly once, as accepted or refused.
func (s *session) decide() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided {
		return false
	}
	s.decided = true
	return true
}

// backendIs reports whether the session is relayed to addr.
func (s *session) backendIs(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backend != nil && s.backendAddr == addr
}

// end closes both connections once; abort makes the close a TCP reset.
func (s *session) end(abort bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	if s.onEnd != nil {
		s.onEnd()
	}
	close(s.done)
	for _, c := range []net.Conn{s.client, s.backend} {
		if c == nil {
			continue
		}
		if abort {
			resetConn(c)
		} else {
			c.Close()
		}
	}
}

func (s *session) reset() { s.end(true) }
func (s *session) close() { s.end(false) }

// pipe copies src to dst. Before anything read from src takes effect (bytes,
// end of stream, an error) it waits for g to be open, so a shut gate holds
// the stream where it is. End of stream half-closes dst; an error resets the
// whole session, as a reset travels across a real network.
func (s *session) pipe(dst, src net.Conn, g *gate) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if g != nil {
			select {
			case <-g.passing():
			case <-s.done:
				return
			}
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				s.reset()
				return
			}
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
				return
			}
			s.close()
			return
		default:
			s.reset()
			return
		}
	}
}

// resetConn closes c with a TCP RST instead of a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// gate holds relayed bytes while shut. Its channel is closed while open.
type gate struct {
	mu   sync.Mutex
	open chan struct{}
	shut bool
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

// passing returns a channel that is closed while the gate is open.
func (g *gate) passing() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.shut {
		g.shut = true
		g.open = make(chan struct{})
	}
}

func (g *gate) lift() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut {
		g.shut = false
		close(g.open)
	}
}
