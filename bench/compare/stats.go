package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Systems and scenarios.
const (
	systemSwitchyard     = "switchyard"
	systemPatroniDefault = "patroni-default"
	systemPatroniTuned   = "patroni-tuned"
)

var (
	allSystems   = []string{systemSwitchyard, systemPatroniDefault, systemPatroniTuned}
	allScenarios = []string{"crash", "blackhole", "switchover"}
)

// result is one line of the JSONL output: bench/recovery's fields plus the
// system and scenario, each run's figure and, on Patroni's lines, how many
// times Switchyard's median is faster.
type result struct {
	System         string  `json:"system"`
	Scenario       string  `json:"scenario"`
	Fault          string  `json:"fault"`
	Path           string  `json:"path"`
	Runs           int     `json:"runs"`
	MedianS        float64 `json:"median_s"`
	MinS           float64 `json:"min_s"`
	MaxS           float64 `json:"max_s"`
	Acked          int     `json:"acked"`
	Lost           int     `json:"lost"`
	DualWritableMs int64   `json:"dual_writable_ms"`
	// SamplesS are the runs' figures in run order.
	SamplesS []float64 `json:"samples_s"`
	// SwitchyardSpeedup is this median ÷ Switchyard's median for the same
	// scenario (Patroni's lines only, when Switchyard was measured).
	SwitchyardSpeedup float64 `json:"switchyard_speedup,omitempty"`
}

// run is one measured run.
type run struct {
	Figure       time.Duration // time to recovery, or the switchover's window
	Acked        int
	Lost         int
	DualWritable time.Duration
}

// summarize aggregates a configuration's runs (at least one).
func summarize(system, scenario, path string, runs []run) result {
	r := result{System: system, Scenario: scenario, Fault: scenario, Path: path, Runs: len(runs)}
	ds := make([]time.Duration, 0, len(runs))
	for _, x := range runs {
		ds = append(ds, x.Figure)
		r.SamplesS = append(r.SamplesS, x.Figure.Seconds())
		r.Acked += x.Acked
		r.Lost += x.Lost
		r.DualWritableMs += x.DualWritable.Milliseconds()
	}
	slices.Sort(ds)
	r.MedianS, r.MinS, r.MaxS = median(ds).Seconds(), ds[0].Seconds(), ds[len(ds)-1].Seconds()
	return r
}

// median of sorted durations; the mean of the middle two for an even count.
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// addSpeedups sets SwitchyardSpeedup on every other system's line whose
// scenario Switchyard was measured in: its median ÷ Switchyard's.
func addSpeedups(results []result) {
	base := map[string]float64{}
	for _, r := range results {
		if r.System == systemSwitchyard {
			base[r.Scenario] = r.MedianS
		}
	}
	for i, r := range results {
		if b, ok := base[r.Scenario]; ok && r.System != systemSwitchyard && b > 0 {
			results[i].SwitchyardSpeedup = r.MedianS / b
		}
	}
}

// printTable writes the comparison table.
func printTable(w io.Writer, results []result) {
	fmt.Fprintf(w, "%-16s %-11s %4s %9s %9s %9s %6s %5s %8s  %s\n",
		"system", "scenario", "runs", "median_s", "min_s", "max_s", "acked", "lost", "dual_ms", "switchyard is")
	for _, r := range results {
		speedup := "-"
		if r.SwitchyardSpeedup > 0 {
			speedup = fmt.Sprintf("×%.1f faster", r.SwitchyardSpeedup)
		}
		fmt.Fprintf(w, "%-16s %-11s %4d %9.3f %9.3f %9.3f %6d %5d %8d  %s\n",
			r.System, r.Scenario, r.Runs, r.MedianS, r.MinS, r.MaxS, r.Acked, r.Lost, r.DualWritableMs, speedup)
	}
}

// parseList splits a comma-separated flag and checks each name against
// allowed, keeping allowed's order.
func parseList(flagName, value string, allowed []string) ([]string, error) {
	want := map[string]bool{}
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(allowed, name) {
			return nil, fmt.Errorf("-%s: unknown %q (want some of %s)", flagName, name, strings.Join(allowed, ","))
		}
		want[name] = true
	}
	var out []string
	for _, name := range allowed {
		if want[name] {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-%s: empty", flagName)
	}
	return out, nil
}
