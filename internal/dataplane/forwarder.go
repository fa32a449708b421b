package dataplane

import (
	"fmt"
	"net"
)

// ResolveFunc says where a client-facing address points right now: the
// backend's host:port, or an error when nothing reachable is behind it (no
// route, instance stopped, record missing). It is called once per new
// connection, from several goroutines at once.
type ResolveFunc func() (backendAddr string, err error)

// Forwarder is a client-facing address (overlay IP, Elastic IP, DNS name) on
// a loopback port. Each new connection goes to the backend Resolve names at
// that moment; open connections stay on their backend until it ends them or
// CutConnectionsTo does. Methods are safe for concurrent use.
type Forwarder struct {
	r       *relay
	resolve ResolveFunc
}

// NewForwarder listens on 127.0.0.1:0 and starts forwarding.
func NewForwarder(name string, resolve ResolveFunc, opts ...Option) (*Forwarder, error) {
	if resolve == nil {
		return nil, fmt.Errorf("dataplane: forwarder %s: nil resolve function", name)
	}
	r, err := newRelay("forwarder", name, opts)
	if err != nil {
		return nil, err
	}
	f := &Forwarder{r: r, resolve: resolve}
	r.serve(f.handle)
	return f, nil
}

func (f *Forwarder) handle(client net.Conn) {
	backend, err := f.resolve()
	if err != nil {
		f.r.refuse(client, "resolve failed", err)
		resetConn(client)
		return
	}
	s := newSession(client)
	if !f.r.track(s) {
		resetConn(client)
		return
	}
	f.r.connectAndPipe(s, backend, nil)
}

// Addr is the client-facing host:port.
func (f *Forwarder) Addr() string { return f.r.addr() }

// CutConnectionsTo resets every open connection relayed to backendAddr (as
// returned by Resolve) and returns how many it ended. New connections are
// unaffected: Resolve decides for them.
func (f *Forwarder) CutConnectionsTo(backendAddr string) int {
	n := f.r.resetWhere(func(s *session) bool { return s.backendIs(backendAddr) })
	if n > 0 {
		f.r.log.Info("connections cut", "backend", backendAddr, "count", n)
	}
	return n
}

// Stats returns the connection counters.
func (f *Forwarder) Stats() Stats { return f.r.stats() }

// Close stops listening, resets open connections and waits for the relay's
// goroutines to finish.
func (f *Forwarder) Close() error { return f.r.close() }
