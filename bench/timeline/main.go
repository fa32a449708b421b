// Command timeline runs one failover of each detection path (crash, fast
// and alarm) and one planned switchover on the local stack, and draws for
// each an SVG timeline of the client's acknowledged writes per 100 ms with
// the phases marked (fault, alarm, execution start, each step's end, the
// route switched, the first acknowledged write).
//
//	go run ./bench/timeline              # writes docs/img/timeline-*.svg
//	go run ./bench/timeline -runs crash/fast
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/internal/demo"
)

func main() {
	runs := flag.String("runs", "crash/fast,crash/alarm,switchover/fast", "comma-separated fault/path pairs")
	dir := flag.String("dir", filepath.Join("docs", "img"), "directory the pictures are written to")
	format := flag.String("format", "svg", "picture format: svg or png")
	flag.Parse()
	if *format != "svg" && *format != "png" {
		fmt.Fprintf(os.Stderr, "timeline: -format %q is neither svg nor png\n", *format)
		os.Exit(2)
	}
	for _, run := range strings.Split(*runs, ",") {
		fault, path, ok := strings.Cut(run, "/")
		if !ok {
			fmt.Fprintf(os.Stderr, "timeline: %q is not fault/path\n", run)
			os.Exit(2)
		}
		res, err := demo.Run(context.Background(), demo.Options{Fault: fault, Path: path})
		if err != nil {
			fmt.Fprintf(os.Stderr, "timeline: %s: %v\n", run, err)
			os.Exit(1)
		}
		out := filepath.Join(*dir, fmt.Sprintf("timeline-%s-%s.%s", fault, path, *format))
		if fault == demo.FaultSwitchover {
			out = filepath.Join(*dir, "timeline-switchover."+*format)
		}
		if err := drawTimeline(res, title(fault, path, res), out); err != nil {
			fmt.Fprintf(os.Stderr, "timeline: %s: %v\n", run, err)
			os.Exit(1)
		}
		fmt.Printf("%s: %s %s, %d acknowledged writes, %d lost -> %s\n", run, headline(fault), res.Unavailable().Round(1e6), res.Acked, len(res.Missing), out)
	}
}

func title(fault, path string, res demo.Result) string {
	if fault == demo.FaultSwitchover {
		return fmt.Sprintf("Planned switchover: writes unavailable for %s", res.Unavailable().Round(1e6))
	}
	return fmt.Sprintf("Primary %s, %s path: first write %s after the fault", fault, path, res.Unavailable().Round(1e6))
}

func headline(fault string) string {
	if fault == demo.FaultSwitchover {
		return "write-unavailable window"
	}
	return "recovery"
}
