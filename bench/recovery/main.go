// Command recovery measures Switchyard's time to recovery on the local
// stack (synchronous pair, a client writing through the overlay IP) for
// each fault (crash, blackhole) and detection path (fast, alarm), and the
// write-unavailable window of a planned switchover (fault "switchover",
// measured once whatever the paths: nothing is detected), prints each
// phase's median and spread, and writes one JSON object per
// configuration, one per line, to -out. median_s/min_s/max_s are the time
// to recovery, or for a switchover the window from the last acknowledged
// write before it to the first after it.
//
//	go run ./bench/recovery -runs 10
//	go run ./bench/recovery -runs 10 -faults crash -paths fast
//	go run ./bench/recovery -runs 10 -faults switchover
//	go run ./bench/recovery -runs 10 -scenarios routetable,eip,route53
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/demo"
	"github.com/switchyard/switchyard/internal/localstack"
)

// result is one configuration's line in the JSONL output.
type result struct {
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
}

func main() {
	runs := flag.Int("runs", 10, "failovers to measure per configuration")
	faults := flag.String("faults", demo.FaultCrash+","+demo.FaultBlackhole+","+demo.FaultSwitchover, "comma-separated faults")
	paths := flag.String("paths", demo.PathFast+","+demo.PathAlarm, "comma-separated detection paths")
	scenarios := flag.String("scenarios", localstack.ScenarioRouteTable, "comma-separated client-routing scenarios (routetable, eip, route53); each but routetable is measured for the crash fault on the fast path")
	out := flag.String("out", filepath.Join("bench", "results", "recovery.jsonl"), "JSON lines output")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "recovery: -runs must be at least 1")
		os.Exit(2)
	}
	var results []result
	for _, scenario := range strings.Split(*scenarios, ",") {
		fs, ps := strings.Split(*faults, ","), strings.Split(*paths, ",")
		if scenario != localstack.ScenarioRouteTable {
			// The address is what differs: one failover configuration.
			fs, ps = []string{demo.FaultCrash}, []string{demo.PathFast}
		}
		for _, fault := range fs {
			fps := ps
			if fault == demo.FaultSwitchover {
				fps = []string{demo.PathFast} // nothing to detect: one configuration
			}
			for _, path := range fps {
				r, err := measure(scenario, fault, path, *runs)
				if err != nil {
					fmt.Fprintf(os.Stderr, "recovery: %s %s/%s: %v\n", scenario, fault, path, err)
					os.Exit(1)
				}
				results = append(results, r)
			}
		}
	}
	fmt.Printf("\n%-10s %-10s %-6s %5s %9s %9s %9s %7s %5s %17s\n", "scenario", "fault", "path", "runs", "median_s", "min_s", "max_s", "acked", "lost", "dual_writable_ms")
	for _, r := range results {
		fmt.Printf("%-10s %-10s %-6s %5d %9.3f %9.3f %9.3f %7d %5d %17d\n", r.Scenario, r.Fault, r.Path, r.Runs, r.MedianS, r.MinS, r.MaxS, r.Acked, r.Lost, r.DualWritableMs)
	}
	if err := write(*out, results); err != nil {
		fmt.Fprintf(os.Stderr, "recovery: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nwrote %s\n", *out)
}

// measure runs one configuration and prints its phases.
func measure(scenario, fault, path string, runs int) (result, error) {
	r := result{Scenario: scenario, Fault: fault, Path: path, Runs: runs}
	phases := map[string][]time.Duration{}
	var order []string
	add := func(name string, d time.Duration) {
		if _, ok := phases[name]; !ok {
			order = append(order, name)
		}
		phases[name] = append(phases[name], d)
	}
	fmt.Printf("== scenario %s, fault %s, %s path, %d runs\n", scenario, fault, path, runs)
	for i := 1; i <= runs; i++ {
		res, err := demo.Run(context.Background(), demo.Options{Fault: fault, Path: path, Scenario: scenario})
		if err != nil {
			return r, fmt.Errorf("run %d: %w", i, err)
		}
		if !res.AlarmAt.IsZero() {
			add("crash → alarm", res.AlarmAt.Sub(res.Crash))
		}
		add("crash → execution started", res.ExecutionStart.Sub(res.Crash))
		for _, s := range res.Steps {
			add("step "+s.Name, s.End.Sub(s.Start))
		}
		add("crash → target switched", res.RoutedAt.Sub(res.Crash))
		add("crash → first acknowledged write", res.Recovery())
		add("headline", res.Unavailable())
		r.Acked += res.Acked
		r.Lost += len(res.Missing)
		r.DualWritableMs += res.DualWritable.Milliseconds()
		fmt.Printf("run %2d: %s %s, %d acknowledged writes, %d missing, %s with two writable nodes\n",
			i, headline(fault), res.Unavailable().Round(time.Millisecond), res.Acked, len(res.Missing), res.DualWritable)
	}
	fmt.Printf("\n%-36s %10s %10s %10s  (n=%d)\n", "phase", "median", "min", "max", runs)
	for _, name := range order {
		ds := phases[name]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("%-36s %10s %10s %10s\n", name, median(ds).Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
	fmt.Println()
	rec := phases["headline"]
	r.MedianS, r.MinS, r.MaxS = median(rec).Seconds(), rec[0].Seconds(), rec[len(rec)-1].Seconds()
	return r, nil
}

func write(path string, results []result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return f.Close()
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// headline names a configuration's figure.
func headline(fault string) string {
	if fault == demo.FaultSwitchover {
		return "write-unavailable window"
	}
	return "recovery"
}
