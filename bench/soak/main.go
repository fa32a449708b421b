// Command soak alternates planned switchovers and unplanned failovers on
// one local stack (synchronous pair, automatic rejoin, the standby's fast
// path) under a client writing through the overlay IP every 20 ms, and
// reports each cycle's write-unavailable window, the acknowledged writes
// lost (must be 0) and the time with two writable nodes (must be 0).
//
// A switchover cycle hands the primary role to the standby
// (events/switchover.json's input, target = the standby) and waits for the
// old primary to rejoin. A failover cycle kills the primary's PostgreSQL
// and agent, lets the standby's fast path fail over, starts the fenced
// instance again, boots its agent and waits for it to rejoin. Each cycle
// ends with two healthy nodes: the new primary's agent records the other
// eligible again.
//
//	go run ./bench/soak -cycles 100
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/demo"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/store"
)

// cycle is one line of the JSONL output.
type cycle struct {
	N        int     `json:"cycle"`
	Kind     string  `json:"kind"` // switchover or failover
	From     string  `json:"from"`
	To       string  `json:"to"`
	WindowMs int64   `json:"write_unavailable_ms"`
	TotalS   float64 `json:"cycle_s"` // until both nodes are healthy again
}

func main() {
	cycles := flag.Int("cycles", 100, "switchovers and failovers, alternating")
	out := flag.String("out", filepath.Join("bench", "results", "soak.jsonl"), "JSON lines output (one per cycle, then a summary)")
	verbose := flag.Bool("verbose", false, "print the stack's and the functions' structured logs to stderr")
	flag.Parse()
	if *cycles < 2 {
		fmt.Fprintln(os.Stderr, "soak: -cycles must be at least 2 (one switchover, one failover)")
		os.Exit(2)
	}
	opts := localstack.Options{Rejoin: true, FastPath: true}
	if *verbose {
		opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := run(opts, *cycles, *out); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(opts localstack.Options, cycles int, out string) error {
	ctx := context.Background()
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	// Only the fast path and the operator start executions: the alarms
	// would fire on the killed primary's missing heartbeats in parallel.
	for _, r := range s.Bus.Rules() {
		if !isCleanupRule(r) {
			s.Bus.RemoveRule(r)
		}
	}
	if err := s.WaitSteady(ctx, time.Minute); err != nil {
		return err
	}
	if err := s.PrepareWriterTable(ctx); err != nil {
		return err
	}
	w := s.StartWriter(s.ClientOverlay.Addr(), 20*time.Millisecond)
	defer w.Stop()
	dual := demo.WatchDualWritable(s, 20*time.Millisecond)
	var results []cycle
	for i := 1; i <= cycles; i++ {
		c, err := oneCycle(ctx, s, w, i)
		if err != nil {
			dual.Stop()
			return fmt.Errorf("cycle %d: %w", i, err)
		}
		results = append(results, c)
		fmt.Printf("cycle %3d %-10s %s → %s: write-unavailable %4d ms, healthy again after %5.1f s\n", c.N, c.Kind, c.From, c.To, c.WindowMs, c.TotalS)
	}
	stats := w.Stop()
	both := dual.Stop()
	primary := record(ctx, s).Primary
	missing, err := s.MissingOn(ctx, primary, stats.Acked)
	if err != nil {
		return err
	}
	sum := summarize(results)
	fmt.Printf("\n%d cycles: %d acknowledged writes, %d missing on %s, %s with two writable nodes\n", cycles, len(stats.Acked), len(missing), primary, both)
	for _, k := range []string{"switchover", "failover"} {
		st := sum[k]
		fmt.Printf("%-10s n=%3d write-unavailable ms: median %d, min %d, max %d\n", k, st.n, st.median, st.min, st.max)
	}
	if err := write(out, results, len(stats.Acked), len(missing), both); err != nil {
		return err
	}
	if len(missing) > 0 || both > 0 {
		return fmt.Errorf("%d acknowledged writes lost, %s with two writable nodes", len(missing), both)
	}
	return nil
}

func isCleanupRule(name string) bool { return strings.Contains(name, "CleanupFunction") }

// oneCycle hands the primary role over once: odd cycles by switchover,
// even ones by failover.
func oneCycle(ctx context.Context, s *localstack.Stack, w *localstack.Writer, n int) (cycle, error) {
	start := time.Now()
	rec := record(ctx, s)
	from := rec.Primary
	to := "node1"
	if from == "node1" {
		to = "node2"
	}
	c := cycle{N: n, Kind: "switchover", From: from, To: to}
	if n%2 == 0 {
		c.Kind = "failover"
	}
	before := w.Stats().Recovery
	rejoins := s.Nodes[from].Agent().Snapshot().Rejoins
	switch c.Kind {
	case "switchover":
		input := fmt.Sprintf(`{"action":"switchover","cluster":%q,"target":%q,"force":false,"reason":"soak cycle %d"}`, s.Config.Name, to, n)
		outp, err := s.Client("operator").SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN), Input: aws.String(input)})
		if err != nil {
			return c, err
		}
		if err := waitSucceeded(ctx, s, aws.ToString(outp.ExecutionArn)); err != nil {
			return c, err
		}
	case "failover":
		if err := s.Crash(from); err != nil {
			return c, err
		}
		if err := waitFor(2*time.Minute, "the fast path's failover to "+to, func() bool { return record(ctx, s).Primary == to && record(ctx, s).Lock == nil }); err != nil {
			return c, err
		}
		id := s.Nodes[from].Instance.ID
		if err := waitFor(2*time.Minute, from+"'s instance stopped by the fence", func() bool { return s.EC2.InstanceState(id) == "stopped" }); err != nil {
			return c, err
		}
		if _, err := s.Client("operator").EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			return c, err
		}
		if err := waitFor(2*time.Minute, from+"'s instance running", func() bool { return s.EC2.InstanceState(id) == "running" }); err != nil {
			return c, err
		}
		if err := s.Boot(from); err != nil {
			return c, err
		}
	}
	if err := waitFor(2*time.Minute, from+" rejoined as "+to+"'s eligible standby", func() bool {
		r := record(ctx, s)
		a := s.Nodes[from].Agent()
		return a != nil && (a.Snapshot().Rejoins > rejoins || c.Kind == "failover" && a.Snapshot().Rejoins > 0) &&
			r.Primary == to && r.Standby != nil && r.Standby.Node == from && r.Standby.Eligible
	}); err != nil {
		return c, err
	}
	if err := waitFor(time.Minute, "writes after the handover", func() bool {
		st := w.Stats()
		return st.Recovery.After(before) && time.Since(st.Recovery) > 0
	}); err != nil {
		return c, err
	}
	c.WindowMs = w.Stats().Gap.Milliseconds()
	c.TotalS = time.Since(start).Seconds()
	return c, nil
}

func waitSucceeded(ctx context.Context, s *localstack.Stack, arn string) error {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	status, err := s.SFN.WaitExecution(wctx, arn)
	if err != nil {
		return err
	}
	if status != "SUCCEEDED" {
		info, _ := s.SFN.Execution(arn)
		return fmt.Errorf("execution %s: %s %s: %s", arn, status, info.Error, info.Cause)
	}
	return nil
}

func record(ctx context.Context, s *localstack.Stack) store.Record {
	rec, _ := store.New(s.Client("soak").DynamoDB, s.Config.Table).Get(ctx, s.Config.Name)
	return rec
}

func waitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for " + what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

type spread struct{ n, median, min, max int64 }

func summarize(cs []cycle) map[string]spread {
	by := map[string][]int64{}
	for _, c := range cs {
		by[c.Kind] = append(by[c.Kind], c.WindowMs)
	}
	out := map[string]spread{}
	for k, v := range by {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		out[k] = spread{n: int64(len(v)), median: v[len(v)/2], min: v[0], max: v[len(v)-1]}
	}
	return out
}

func write(path string, cs []cycle, acked, lost int, both time.Duration) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, c := range cs {
		if err := enc.Encode(c); err != nil {
			f.Close()
			return err
		}
	}
	sum := summarize(cs)
	if err := enc.Encode(map[string]any{"summary": true, "cycles": len(cs), "acked": acked, "lost": lost,
		"dual_writable_ms": both.Milliseconds(), "switchover_median_ms": sum["switchover"].median, "switchover_max_ms": sum["switchover"].max,
		"failover_median_ms": sum["failover"].median, "failover_max_ms": sum["failover"].max}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
