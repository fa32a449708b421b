// Command recovery measures Switchyard's time to recovery in the demo
// scenario (synchronous pair, primary killed, alarm-driven failover on the
// local stack) over several runs and prints each phase's median and spread.
//
//	go run ./bench/recovery -runs 10
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/switchyard/switchyard/internal/demo"
)

func main() {
	runs := flag.Int("runs", 10, "number of failovers to measure")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "recovery: -runs must be at least 1")
		os.Exit(2)
	}
	phases := map[string][]time.Duration{}
	var order []string
	add := func(name string, d time.Duration) {
		if _, ok := phases[name]; !ok {
			order = append(order, name)
		}
		phases[name] = append(phases[name], d)
	}
	for i := 1; i <= *runs; i++ {
		res, err := demo.Run(context.Background(), demo.Options{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "run %d failed: %v\n", i, err)
			os.Exit(1)
		}
		add("crash → heartbeat missed", res.HeartbeatMissedAt.Sub(res.Crash))
		add("detection (crash → alarm)", res.AlarmAt.Sub(res.Crash))
		add("alarm → execution started", res.ExecutionStart.Sub(res.AlarmAt))
		for _, s := range res.Steps {
			add("step "+s.Name, s.End.Sub(s.Start))
		}
		add("crash → route switched", res.RoutedAt.Sub(res.Crash))
		add("crash → first acknowledged write", res.Recovery())
		fmt.Printf("run %2d: recovery %s, %d acknowledged writes, %d missing\n", i, res.Recovery().Round(time.Millisecond), res.Acked, len(res.Missing))
	}
	fmt.Printf("\n%-36s %10s %10s %10s  (n=%d)\n", "phase", "median", "min", "max", *runs)
	for _, name := range order {
		ds := phases[name]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("%-36s %10s %10s %10s\n", name, median(ds).Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
}

func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
