package main

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3 * s}, 3 * s},
		{[]time.Duration{1 * s, 3 * s}, 2 * s},
		{[]time.Duration{1 * s, 2 * s, 9 * s}, 2 * s},
		{[]time.Duration{1 * s, 2 * s, 4 * s, 9 * s}, 3 * s},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSummarizeAggregatesRunsInOrder(t *testing.T) {
	runs := []run{
		{Figure: 3 * time.Second, Acked: 100, Lost: 0, DualWritable: 0},
		{Figure: 1 * time.Second, Acked: 110, Lost: 2, DualWritable: 40 * time.Millisecond},
		{Figure: 2 * time.Second, Acked: 120, Lost: 1, DualWritable: 5 * time.Millisecond},
	}
	got := summarize("patroni-tuned", "crash", "ttl=10,loop_wait=2,retry_timeout=4", runs)
	want := result{System: "patroni-tuned", Scenario: "crash", Fault: "crash", Path: "ttl=10,loop_wait=2,retry_timeout=4",
		Runs: 3, MedianS: 2, MinS: 1, MaxS: 3, Acked: 330, Lost: 3, DualWritableMs: 45, SamplesS: []float64{3, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summarize:\n got %+v\nwant %+v", got, want)
	}
	if runs[0].Figure != 3*time.Second {
		t.Error("summarize reordered its input")
	}
}

func TestSpeedupIsPatroniMedianOverSwitchyardMedian(t *testing.T) {
	results := []result{
		{System: "switchyard", Scenario: "crash", MedianS: 0.5},
		{System: "switchyard", Scenario: "switchover", MedianS: 0},
		{System: "patroni-default", Scenario: "crash", MedianS: 35},
		{System: "patroni-tuned", Scenario: "crash", MedianS: 10},
		{System: "patroni-tuned", Scenario: "blackhole", MedianS: 12}, // Switchyard not measured
		{System: "patroni-tuned", Scenario: "switchover", MedianS: 4}, // Switchyard's median 0: no ratio
	}
	addSpeedups(results)
	want := []float64{0, 0, 70, 20, 0, 0}
	for i, r := range results {
		if math.Abs(r.SwitchyardSpeedup-want[i]) > 1e-9 {
			t.Errorf("%s/%s: speedup %v, want %v", r.System, r.Scenario, r.SwitchyardSpeedup, want[i])
		}
	}
}

func TestResultJSONHasRecoveryFieldsPlusSystemAndScenario(t *testing.T) {
	b, err := json.Marshal(result{System: "switchyard", Scenario: "crash", Fault: "crash", Path: "fast", Runs: 1, SamplesS: []float64{0.7}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"system", "scenario", "fault", "path", "runs", "median_s", "min_s", "max_s", "acked", "lost", "dual_writable_ms", "samples_s"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing in %s", k, b)
		}
	}
	if _, ok := m["switchyard_speedup"]; ok {
		t.Errorf("switchyard_speedup present on Switchyard's own line: %s", b)
	}
}

func TestPrintTable(t *testing.T) {
	var buf bytes.Buffer
	printTable(&buf, []result{
		{System: "switchyard", Scenario: "crash", Runs: 2, MedianS: 0.7, MinS: 0.6, MaxS: 0.8, Acked: 210},
		{System: "patroni-default", Scenario: "crash", Runs: 2, MedianS: 35, MinS: 30, MaxS: 40, Acked: 200, Lost: 1, DualWritableMs: 12, SwitchyardSpeedup: 50},
	})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows, got:\n%s", buf.String())
	}
	if !strings.HasSuffix(lines[1], "  -") {
		t.Errorf("Switchyard's row should have no ratio: %q", lines[1])
	}
	for _, f := range []string{"patroni-default", "35.000", "30.000", "40.000", "200", "12", "×50.0 faster"} {
		if !strings.Contains(lines[2], f) {
			t.Errorf("Patroni's row lacks %q: %q", f, lines[2])
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := parseList("systems", "patroni-tuned, switchyard", allSystems)
	if err != nil || !reflect.DeepEqual(got, []string{"switchyard", "patroni-tuned"}) {
		t.Errorf("parseList = %v, %v; want the allowed order", got, err)
	}
	if _, err := parseList("scenarios", "crash,meteor", allScenarios); err == nil || !strings.Contains(err.Error(), "meteor") {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := parseList("scenarios", " , ", allScenarios); err == nil {
		t.Error("an empty list was accepted")
	}
}
