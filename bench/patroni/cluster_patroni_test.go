//go:build patroni

package patroni

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestTunedClusterFailsOverAndRejoins starts the tuned cluster and runs
// each scenario once: every run must recover, lose no acknowledged write
// and never have two writable nodes, the pair must heal between runs, and
// a member rebuilt from nothing (Heal's fallback) must rejoin.
// It needs Patroni, etcd and HAProxy (make bench-compare installs them):
//
//	go test -tags patroni -run TestTuned -v ./bench/patroni/
func TestTunedClusterFailsOverAndRejoins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Settings: Tuned, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, scenario := range []string{ScenarioCrash, ScenarioBlackhole, ScenarioSwitchover} {
		res, err := c.Run(ctx, scenario, RunOptions{Out: os.Stdout})
		if err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		t.Logf("%s: %s → %s, %s unavailable, %d acknowledged, %d missing, %s with two writable nodes",
			scenario, res.OldPrimary, res.NewPrimary, res.Unavailable().Round(time.Millisecond), res.Acked, len(res.Missing), res.DualWritable)
		if res.Unavailable() <= 0 || res.Acked < 100 {
			t.Errorf("%s: implausible result %+v", scenario, res)
		}
		if len(res.Missing) > 0 {
			t.Errorf("%s: %d acknowledged writes missing on %s", scenario, len(res.Missing), res.NewPrimary)
		}
		if res.DualWritable > 0 {
			t.Errorf("%s: two writable nodes for %s", scenario, res.DualWritable)
		}
		if res.OldPrimary == res.NewPrimary {
			t.Errorf("%s: the primary did not change (%s)", scenario, res.OldPrimary)
		}
	}
	_, replica, err := c.Heal(ctx, 3*time.Minute)
	if err != nil {
		t.Fatalf("the pair did not heal after the last run: %v", err)
	}
	// Heal's fallback: a member rebuilt from an empty data directory.
	if err := c.reinit(replica); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WaitHealthy(ctx, 3*time.Minute); err != nil {
		t.Fatalf("%s did not come back after a rebuild: %v", replica.Name, err)
	}
}
