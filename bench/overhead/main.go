package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localstack"
	"github.com/switchyard/switchyard/internal/store"
)

// options are the command's flags.
type options struct {
	Duration, Warmup time.Duration
	Out              string
	Verbose          bool
	Build            string
}

func main() {
	var o options
	flag.DurationVar(&o.Duration, "duration", 10*time.Minute, "how long to measure, after the warm-up")
	flag.DurationVar(&o.Warmup, "warmup", 15*time.Second, "how long the pair runs steady before measuring (start-up is not counted)")
	flag.StringVar(&o.Out, "out", filepath.Join("bench", "results", "overhead.jsonl"), "JSON lines output; one line is appended per run")
	flag.BoolVar(&o.Verbose, "verbose", false, "print the PostgreSQL harness's progress")
	flag.StringVar(&o.Build, "build", buildRelease, "how nodeprobe is built: "+buildRelease+" (as `make agent`: the deployed, static binary) or "+buildPlain+" (go build)")
	flag.Parse()
	if o.Duration < 10*time.Second || o.Warmup < 0 {
		fmt.Fprintln(os.Stderr, "overhead: -duration must be at least 10s and -warmup not negative")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	hz, err := clockTicks()
	if err != nil {
		return err
	}
	repo, err := localstack.FindRepo(".")
	if err != nil {
		return err
	}
	b := &bench{}
	defer func() {
		if err := b.close(); err != nil {
			fmt.Fprintln(os.Stderr, "overhead: stopping:", err)
		}
	}()
	if b.dir, err = os.MkdirTemp("", "switchyard-overhead-"); err != nil {
		return fmt.Errorf("creating a temporary directory: %w", err)
	}
	b.onClose(func() error { return os.RemoveAll(b.dir) })
	if b.topo, err = localaws.LoadTopology(filepath.Join(repo, "testdata", "topology", "reference.yaml")); err != nil {
		return err
	}

	build, err := agentBuildFor(o.Build)
	if err != nil {
		return err
	}
	fmt.Printf("building nodeprobe (%s)\n", build.String("<tmp>/nodeprobe"))
	bin, err := buildAgent(ctx, repo, b.dir, build)
	if err != nil {
		return err
	}
	text, err := textBytes(bin)
	if err != nil {
		return err
	}
	table := "switchyard-" + clusterName
	if err := b.startEmulator(table); err != nil {
		return fmt.Errorf("starting the AWS emulator: %w", err)
	}
	logf := func(string, ...any) {}
	if o.Verbose {
		logf = func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	}
	fmt.Println("starting a synchronous PostgreSQL pair (pgharness)")
	if err := b.startPair(ctx, logf); err != nil {
		return err
	}
	nodes, err := b.nodes()
	if err != nil {
		return err
	}
	if err := b.writeClusterConfig(nodes, table); err != nil {
		return err
	}
	var pg localPG
	for _, n := range nodes {
		if pg, err = readLocalPG(ctx, n.PG); err != nil {
			return err
		}
		p, err := b.startAgent(bin, n, pg)
		if err != nil {
			return err
		}
		fmt.Printf("started nodeprobe for %s (%s), pid %d, calling AWS as %s\n", n.Name, n.Role, p.PID(), p.Caller)
	}
	epoch, err := b.waitSteady(ctx, nodes[0].Name, nodes[1].Name, 2*time.Minute)
	if err != nil {
		return err
	}
	fmt.Printf("steady: %s holds the primary lease, %s is its eligible synchronous standby; warming up %s\n", nodes[0].Name, nodes[1].Name, o.Warmup)
	if err := b.sleep(ctx, o.Warmup); err != nil {
		return err
	}
	fmt.Printf("measuring for %s\n", o.Duration)
	m, err := b.measure(ctx, o.Duration, hz)
	if err != nil {
		return err
	}
	if err := b.checkNoFailover(ctx, nodes[0].Name, epoch); err != nil {
		return fmt.Errorf("the figures are not of a steady pair: %w", err)
	}
	res, err := buildResult(m, b, hz, o, pg.Version)
	if err != nil {
		return err
	}
	res.AgentBuild, res.AgentTextBytes = build.String("nodeprobe"), text
	// Stop the agents before reporting, so that a bad shutdown is said
	// next to the figures; they were measured before it.
	for _, p := range b.agents {
		if err := p.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "overhead: warning:", err)
		}
	}
	printReport(os.Stdout, res)
	if err := appendResult(o.Out, res); err != nil {
		return err
	}
	fmt.Printf("\nappended to %s\n", o.Out)
	return nil
}

// sleep waits d while checking every second that the agents run.
func (b *bench) sleep(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if err := b.agentsAlive(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Second, time.Until(end))):
		}
	}
	return b.agentsAlive()
}

func (b *bench) agentsAlive() error {
	var errs []error
	for _, p := range b.agents {
		errs = append(errs, p.alive())
	}
	return errors.Join(errs...)
}

// benchCaller is the access key id of the benchmark's own calls (the
// record reads before and after the window); they are not counted.
const benchCaller = "overhead-bench"

func (b *bench) records() (*store.Store, error) {
	c, err := awsall.NewClients(context.Background(), awsall.LocalConfig(b.endpoint, b.topo.Region, benchCaller)...)
	if err != nil {
		return nil, err
	}
	return store.New(c.DynamoDB, b.cfg.Table), nil
}

// waitSteady waits until the primary's agent has created the record and
// holds the lease with its WAL position, and (synchronous replication) has
// recorded the standby eligible. It returns the record's epoch.
func (b *bench) waitSteady(ctx context.Context, primary, standby string, limit time.Duration) (int64, error) {
	records, err := b.records()
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(limit)
	for {
		if err := b.agentsAlive(); err != nil {
			return 0, err
		}
		rec, err := records.Get(ctx, b.cfg.Name)
		if err == nil && rec.Primary == primary && rec.PrimaryLease != nil && rec.PrimaryLease.Node == primary &&
			rec.PrimaryLease.LSN > 0 && rec.Standby != nil && rec.Standby.Node == standby && rec.Standby.Eligible {
			return rec.Epoch, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the pair was not steady after %s: record %+v (%v); agent logs end:\n%s", limit, rec, err, b.logTails(1500))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (b *bench) logTails(n int) string {
	var sb strings.Builder
	for _, p := range b.agents {
		fmt.Fprintf(&sb, "--- %s\n%s\n", p.Node, p.logTail(n))
	}
	return sb.String()
}

// checkNoFailover checks after the window that nothing changed hands
// during it: the same primary, its lease not revoked, and the epoch of
// the steady pair (a failover's lock bumps it).
func (b *bench) checkNoFailover(ctx context.Context, primary string, epoch int64) error {
	records, err := b.records()
	if err != nil {
		return err
	}
	rec, err := records.Get(ctx, b.cfg.Name)
	if err != nil {
		return fmt.Errorf("reading the record after the run: %w", err)
	}
	switch l := rec.PrimaryLease; {
	case rec.Primary != primary || l == nil || l.Node != primary:
		return fmt.Errorf("the record names %s primary after the run, not %s", rec.Primary, primary)
	case l.Revoked():
		return fmt.Errorf("%s's lease was revoked by %s", primary, l.RevokedBy)
	case rec.Epoch != epoch:
		return fmt.Errorf("the record's epoch went from %d to %d: a failover or switchover took the lock", epoch, rec.Epoch)
	}
	return b.agentsAlive()
}

// measurement is what one window yielded.
type measurement struct {
	Start, End            time.Time
	Samples               map[string][]sample // by node
	Calls                 []localaws.Call
	Datums                map[string]datumCounts
	DatumErr              error
	CPUStart, CPUEnd      cpuTimes
	LoadStart, LoadEnd    string
	CallLogMayBeTruncated bool
}

// measure samples every agent's /proc entries every second for d, from
// an emptied call log, and returns what it saw.
func (b *bench) measure(ctx context.Context, d time.Duration, hz int64) (measurement, error) {
	m := measurement{Samples: map[string][]sample{}}
	var err error
	if m.CPUStart, err = readCPUTimes(); err != nil {
		return m, err
	}
	m.LoadStart = loadavg()
	b.server.ResetCalls()
	b.datums.Reset()
	m.Start = time.Now()
	sampleAll := func() error {
		for _, p := range b.agents {
			if err := p.alive(); err != nil {
				return err
			}
			s, err := readSample(p.PID())
			if err != nil {
				return fmt.Errorf("sampling nodeprobe of %s: %w", p.Node, err)
			}
			m.Samples[p.Node] = append(m.Samples[p.Node], s)
		}
		return nil
	}
	if err := sampleAll(); err != nil {
		return m, err
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	deadline := m.Start.Add(d)
	next := time.Minute
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-t.C:
		}
		if err := sampleAll(); err != nil {
			return m, err
		}
		if el := time.Since(m.Start); el >= next && el < d {
			next += time.Minute
			fmt.Printf("  %s of %s measured\n", el.Round(time.Second), d)
		}
	}
	m.End = time.Now()
	m.Calls = b.server.Calls()
	m.Datums, m.DatumErr = b.datums.Snapshot()
	if m.CPUEnd, err = readCPUTimes(); err != nil {
		return m, err
	}
	m.LoadEnd = loadavg()
	// The log drops its oldest half when full: past half the cap, it may
	// have.
	m.CallLogMayBeTruncated = len(m.Calls) >= localaws.MaxLoggedCalls/2
	return m, nil
}

func readCPUTimes() (cpuTimes, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, fmt.Errorf("reading /proc/stat: %w", err)
	}
	return parseCPULine(data)
}

// loadavg is the 1, 5 and 15 minute load averages ("" when unreadable).
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
