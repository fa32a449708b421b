package fence

import (
	"context"
	"fmt"
	"io"
	"net"
)

// Probe asks the old primary's PostgreSQL directly whether it still
// answers. It returns nil when it does: that vetoes the fence's
// confirmation. Any error means it did not answer (refused, reset, timed
// out, unreachable); HardStop counts that as the last piece of proof, never
// as the only one. HardStop bounds each call with WithProbeTimeout.
type Probe func(ctx context.Context) error

// sslRequest is PostgreSQL's SSLRequest message: length 8, code 80877103.
// Every PostgreSQL server (and pooler) answers it with one byte, 'S' or
// 'N', before any authentication.
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// PostgresProbe returns a Probe that connects to addr (host:port), sends
// an SSLRequest and waits for the one-byte answer. Any answer counts as
// "still answers"; a refused or reset connection, one closed without an
// answer (a relay whose upstream is gone) or no answer before the deadline
// count as "does not answer". It needs no credentials. A TCP connect alone
// would not do: a relay or load balancer in front of a dead server still
// accepts connections.
func PostgresProbe(addr string) Probe {
	return func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("connecting to PostgreSQL at %s: %w", addr, err)
		}
		defer conn.Close()
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		defer stop()
		if _, err := conn.Write(sslRequest); err != nil {
			return fmt.Errorf("sending an SSLRequest to %s: %w", addr, err)
		}
		var answer [1]byte
		if _, err := io.ReadFull(conn, answer[:]); err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("PostgreSQL at %s did not answer an SSLRequest: %w", addr, err)
		}
		return nil
	}
}
