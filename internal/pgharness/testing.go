package pgharness

import (
	"context"
	"testing"
	"time"
)

// StartPairT starts a pair for a test and registers its cleanup: on the way
// out the pair is closed (processes stopped, directory removed) whether the
// test passed or not, and a failed test gets the tail of both server logs.
// It fails the test at once if the pair does not start within two minutes.
func StartPairT(t testing.TB, opts PairOptions) *Pair {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := StartPair(ctx, opts)
	if err != nil {
		t.Fatalf("start PostgreSQL pair: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []*Node{p.Primary, p.Standby} {
				t.Logf("log tail of %s:\n%s", n.Name, n.LogTail(3000))
			}
		}
		if err := p.Close(); err != nil {
			t.Errorf("close PostgreSQL pair: %v", err)
		}
	})
	return p
}
