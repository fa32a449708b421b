package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/store"
)

// seedHistory records three attempts: node1→node2 succeeded, node2→node1
// refused, node2→node1 succeeded.
func seedHistory(t *testing.T, em *emulator) {
	t.Helper()
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	attempts := []struct {
		holder  string
		entry   store.HistoryEntry
		promote string
	}{
		{"exec-1", store.HistoryEntry{Action: store.ActionFailover, Trigger: "alarm switchyard-demo-primary-heartbeat", From: "node1", To: "node2",
			Outcome: store.OutcomeSucceeded, Reason: "alarm: heartbeat missing", Steps: []string{"lease", "assess", "fence", "promote", "reroute", "verify", "record"},
			StepMs: map[string]int64{"fence": 409, "promote": 120}}, "node2"},
		{"exec-2", store.HistoryEntry{Action: store.ActionFailover, From: "node2", To: "node1", Outcome: store.OutcomeRefused,
			Reason: "standby 64 MB behind", Steps: []string{"lease", "assess"}}, ""},
		{"exec-3", store.HistoryEntry{Action: store.ActionFailover, From: "node2", To: "node1", Outcome: store.OutcomeSucceeded,
			Reason: "manual\tmaintenance", Steps: []string{"lease", "assess", "fence", "promote", "reroute", "verify", "record"}}, "node1"},
	}
	for _, a := range attempts {
		holder := "arn:aws:states:us-east-1:123456789012:execution:switchyard-failover:" + a.holder
		if _, err := st.AcquireLock(ctx, "demo", holder, time.Minute, time.Now()); err != nil {
			t.Fatal(err)
		}
		a.entry.StartedAt = time.Now()
		var err error
		if a.promote != "" {
			_, err = st.Commit(ctx, "demo", holder, a.promote, a.entry)
		} else {
			_, err = st.Release(ctx, "demo", holder, a.entry)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestHistoryNewestFirst(t *testing.T) {
	em := newEmulator(t)
	seedHistory(t, em)

	res := em.run(t, "history", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 rows, got:\n%s", res.stdout)
	}
	mustContain(t, "header", lines[0], "TIME", "EPOCH", "ACTION", "TRIGGER", "FROM→TO", "OUTCOME", "STEPS", "REASON")
	want := [][]string{
		{"4", "failover", "node2→node1", "succeeded", "lease,assess,fence,promote,reroute,verify,record", "manual maintenance"},
		{"3", "failover", "node2→node1", "refused", "lease,assess", "standby 64 MB behind"},
		{"2", "failover", "alarm switchyard-demo-primary-heartbeat", "node1→node2", "succeeded",
			"lease,assess,fence 409ms,promote 120ms,reroute,verify,record", "alarm: heartbeat missing"},
	}
	for i, parts := range want {
		row := lines[i+1]
		if _, err := time.Parse(time.RFC3339, strings.Fields(row)[0]); err != nil {
			t.Errorf("row %d does not start with a time: %q", i+1, row)
		}
		if f := strings.Fields(row); f[1] != parts[0] {
			t.Errorf("row %d has epoch %s, want %s: %q", i+1, f[1], parts[0], row)
		}
		mustContain(t, "row", row, parts[1:]...)
	}

	res = em.run(t, "history", "--cluster", "demo", "--table", testTable, "--limit", "1")
	lines = strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "manual maintenance") {
		t.Errorf("--limit 1 shows:\n%s", res.stdout)
	}
}

func TestHistoryJSON(t *testing.T) {
	em := newEmulator(t)
	seedHistory(t, em)
	res := em.run(t, "--output", "json", "history", "--cluster", "demo", "--table", testTable, "--limit", "2")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	var entries []store.HistoryEntry
	if err := json.Unmarshal([]byte(res.stdout), &entries); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, res.stdout)
	}
	if len(entries) != 2 || entries[0].Epoch != 4 || entries[1].Epoch != 3 || entries[1].Outcome != store.OutcomeRefused {
		t.Errorf("entries = %+v, want epochs 4 then 3 (refused)", entries)
	}
}

func TestHistoryEmptyAndBadLimit(t *testing.T) {
	em := newEmulator(t)
	if _, err := em.store(t).Init(context.Background(), "demo", "node1"); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "history", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitOK || !strings.Contains(res.stdout, "cluster demo has no history yet") {
		t.Errorf("exit %d, stdout: %s", res.code, res.stdout)
	}
	res = em.run(t, "history", "--cluster", "demo", "--table", testTable, "--json")
	if strings.TrimSpace(res.stdout) != "[]" {
		t.Errorf("history --json of an empty history = %q, want []", res.stdout)
	}
	em.srv.ResetCalls()
	res = em.run(t, "history", "--cluster", "demo", "--table", testTable, "--limit", "-1")
	if res.code != cli.ExitUsage {
		t.Errorf("--limit -1: exit %d, want %d", res.code, cli.ExitUsage)
	}
	mustContain(t, "stderr", res.stderr, "--limit must not be negative")
	if calls := em.srv.Calls(); len(calls) != 0 {
		t.Errorf("bad input made AWS calls: %v", callNames(calls))
	}
}

// Coalesced refusals are one row: how often, the epochs, since when.
func TestHistoryShowsCoalescedEntries(t *testing.T) {
	em := newEmulator(t)
	failedOver(t, em, healthNow.Add(-time.Hour), 10*time.Second, 4)
	res := em.run(t, "history", "--cluster", "demo", "--table", testTable)
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows, got:\n%s", res.stdout)
	}
	mustContain(t, "coalesced row", lines[1], "2026-03-01T11:04:00Z", "3-6", "node2→node1", "refused ×4",
		"since 2026-03-01T11:01:00Z, latest: standby node1 is not eligible; primary heartbeat 240s old")
	mustContain(t, "failover row", lines[2], "2", "node1→node2", "succeeded")

	res = em.run(t, "history", "--cluster", "demo", "--table", testTable, "--json", "--limit", "1")
	var entries []store.HistoryEntry
	if err := json.Unmarshal([]byte(res.stdout), &entries); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, res.stdout)
	}
	if len(entries) != 1 || entries[0].Count != 4 || entries[0].FirstEpoch != 3 || !entries[0].FirstFinishedAt.Equal(healthNow.Add(-59*time.Minute)) {
		t.Errorf("entries = %+v, want the refusal ×4 from epoch 3", entries)
	}
}
