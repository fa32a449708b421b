// Command compare measures Switchyard and Patroni side by side in one run:
// crash, blackhole and switchover, each -runs times, on Switchyard's local
// stack (fast detection path, through internal/demo as bench/recovery
// does) and on a local Patroni cluster (bench/patroni) with Patroni's
// default timings and with timings tuned to Switchyard's detection. It
// prints each run, then a table of median/min/max, acknowledged and lost
// writes and time with two writable nodes per system and scenario, with
// how many times Switchyard's median is faster (Patroni's median ÷
// Switchyard's), and writes one JSON object per system and scenario to
// -out: bench/recovery's fields plus "system", "scenario", "samples_s" and
// "switchyard_speedup".
//
//	go run ./bench/compare -runs 10
//	go run ./bench/compare -runs 3 -systems switchyard,patroni-tuned -scenarios crash
//
// Patroni, etcd and HAProxy must be installed (make bench-compare does
// it: apt-get install -y patroni etcd-server haproxy postgresql-contrib).
// A configuration whose run fails is left out of the table and the file,
// and the command exits 1 after the rest.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/bench/patroni"
	"github.com/switchyard/switchyard/internal/demo"
)

func main() { os.Exit(mainErr()) }

func mainErr() int {
	runs := flag.Int("runs", 10, "measured runs per system and scenario")
	systemsFlag := flag.String("systems", strings.Join(allSystems, ","), "comma-separated systems")
	scenariosFlag := flag.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios")
	out := flag.String("out", filepath.Join("bench", "results", "compare.jsonl"), "JSON lines output")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "compare: -runs must be at least 1")
		return 2
	}
	systems, err := parseList("systems", *systemsFlag, allSystems)
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		return 2
	}
	scenarios, err := parseList("scenarios", *scenariosFlag, allScenarios)
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("compare: %d runs of %s on %s; %d CPUs, load average %s\n",
		*runs, strings.Join(scenarios, ","), strings.Join(systems, ","), runtime.NumCPU(), loadavg())
	var results []result
	var failures []error
	for _, system := range systems {
		var rs []result
		var errs []error
		if system == systemSwitchyard {
			rs, errs = measureSwitchyard(ctx, scenarios, *runs)
		} else {
			rs, errs = measurePatroni(ctx, strings.TrimPrefix(system, "patroni-"), scenarios, *runs)
		}
		results = append(results, rs...)
		failures = append(failures, errs...)
		if ctx.Err() != nil {
			break
		}
	}
	addSpeedups(results)
	fmt.Printf("\nload average at the end: %s\n\n", loadavg())
	printTable(os.Stdout, results)
	if err := write(*out, results); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		return 1
	}
	fmt.Printf("\nwrote %s\n", *out)
	if len(failures) > 0 {
		fmt.Fprintf(os.Stderr, "compare: %d configurations failed:\n", len(failures))
		for _, err := range failures {
			fmt.Fprintf(os.Stderr, "  %v\n", err)
		}
		return 1
	}
	return 0
}

// measureSwitchyard runs each scenario on a new local stack per run, as
// bench/recovery does, on the fast detection path.
func measureSwitchyard(ctx context.Context, scenarios []string, runs int) ([]result, []error) {
	var results []result
	var errs []error
	for _, scenario := range scenarios {
		fmt.Printf("\n== switchyard, %s, %s path, %d runs\n", scenario, demo.PathFast, runs)
		var rs []run
		var err error
		for i := 1; i <= runs && err == nil; i++ {
			var res demo.Result
			res, err = demo.Run(ctx, demo.Options{Fault: scenario, Path: demo.PathFast})
			if err != nil {
				err = fmt.Errorf("switchyard/%s run %d: %w", scenario, i, err)
				break
			}
			r := run{Figure: res.Unavailable(), Acked: res.Acked, Lost: len(res.Missing), DualWritable: res.DualWritable}
			rs = append(rs, r)
			fmt.Printf("run %2d: %s %s (route switched at +%.3fs), %d acknowledged writes, %d missing, %s with two writable nodes\n",
				i, headline(scenario), r.Figure.Round(time.Millisecond), res.RoutedAt.Sub(res.Crash).Seconds(), r.Acked, r.Lost, r.DualWritable)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "compare: %v\n", err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		results = append(results, summarize(systemSwitchyard, scenario, demo.PathFast, rs))
	}
	return results, errs
}

// measurePatroni starts one Patroni cluster with the named timings and
// runs every scenario on it; a failed run costs its scenario and a new
// cluster for the next.
func measurePatroni(ctx context.Context, settingsName string, scenarios []string, runs int) ([]result, []error) {
	settings, err := patroni.SettingsByName(settingsName)
	if err != nil {
		return nil, []error{err}
	}
	var results []result
	var errs []error
	var c *patroni.Cluster
	closeCluster := func() {
		if c != nil {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: closing the cluster: %w", settings.System(), err))
			}
			c = nil
		}
	}
	defer closeCluster()
	logf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	for _, scenario := range scenarios {
		fmt.Printf("\n== %s (%s), %s, %d runs\n", settings.System(), settings.Path(), scenario, runs)
		if c == nil {
			if c, err = patroni.Start(ctx, patroni.Options{Settings: settings, Logf: logf}); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", settings.System(), err))
				fmt.Fprintf(os.Stderr, "compare: %v\n", errs[len(errs)-1])
				if errors.Is(err, patroni.ErrNotInstalled) || ctx.Err() != nil {
					return results, errs
				}
				continue
			}
		}
		var rs []run
		for i := 1; i <= runs; i++ {
			res, err := c.Run(ctx, scenario, patroni.RunOptions{})
			if err != nil {
				err = fmt.Errorf("%s/%s run %d: %w", settings.System(), scenario, i, err)
				fmt.Fprintf(os.Stderr, "compare: %v\n", err)
				errs = append(errs, err)
				rs = nil
				closeCluster()
				break
			}
			r := run{Figure: res.Unavailable(), Acked: res.Acked, Lost: len(res.Missing), DualWritable: res.DualWritable}
			rs = append(rs, r)
			fmt.Printf("run %2d: %s %s (%s → %s, /primary at +%.3fs), %d acknowledged writes, %d missing, %s with two writable nodes\n",
				i, headline(scenario), r.Figure.Round(time.Millisecond), res.OldPrimary, res.NewPrimary,
				res.PromotedAt.Sub(res.Fault).Seconds(), r.Acked, r.Lost, r.DualWritable)
		}
		if ctx.Err() != nil {
			return results, errs
		}
		if len(rs) == runs {
			results = append(results, summarize(settings.System(), scenario, settings.Path(), rs))
		}
	}
	return results, errs
}

func headline(scenario string) string {
	if scenario == "switchover" {
		return "write-unavailable window"
	}
	return "recovery"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
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
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
