package model

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/cluster"
)

// unitMs is the model's tick. Every timing default must be a whole number of
// ticks; 500 ms leaves room for a clock error below the 1 s margin.
const unitMs = 500

const installHint = "install the model checker and a C compiler: " +
	"sudo apt-get install -y spin gcc (or run `make setup` as root)"

// timing is the product's lease arithmetic in ticks.
type timing struct {
	lease, renew, margin, stopBudget, failsafe, watchdog int
	// skew is the largest clock difference between a node and the state
	// machine that the margin allows: strictly below it.
	skew int
	// failsafeWait is how long the fence waits after seeing the candidate
	// stop streaming from the old primary: a failsafe reply window plus a
	// watchdog timeout (a hung agent may have checked in at the end of that
	// window) plus the clock margin.
	failsafeWait int
}

func ticks(t *testing.T, name string, ms int) int {
	t.Helper()
	if ms%unitMs != 0 {
		t.Fatalf("%s = %d ms is not a whole number of %d ms ticks; change unitMs", name, ms, unitMs)
	}
	return ms / unitMs
}

// productTiming reads the defaults from internal/cluster: the one source.
func productTiming(t *testing.T) timing {
	t.Helper()
	c := cluster.DefaultSafety()
	ms := func(d time.Duration) int { return int(d / time.Millisecond) }
	tm := timing{
		lease:      ticks(t, "DefaultLeaseSeconds", cluster.DefaultLeaseSeconds*1000),
		renew:      ticks(t, "DefaultRenewSeconds", cluster.DefaultRenewSeconds*1000),
		margin:     ticks(t, "DefaultClockMarginMs", cluster.DefaultClockMarginMs),
		stopBudget: ticks(t, "DefaultStopBudgetMs", cluster.DefaultStopBudgetMs),
		failsafe:   ticks(t, "DefaultFailsafeReplySeconds", cluster.DefaultFailsafeReplySeconds*1000),
		watchdog:   ticks(t, "WatchdogTimeout", ms(c.WatchdogTimeout())),
		// What Fence and GrantPrimary wait after the candidate detached.
		failsafeWait: ticks(t, "DetachedHold+ClockMargin", ms(c.DetachedHold()+c.ClockMargin())),
	}
	tm.skew = tm.margin - 1
	if tm.skew < 1 {
		t.Fatalf("clock margin %d ms leaves no room for clock error at %d ms ticks", cluster.DefaultClockMarginMs, unitMs)
	}
	return tm
}

func (tm timing) defines() []string {
	return []string{
		"-DUNIT_MS=" + strconv.Itoa(unitMs),
		"-DLEASE=" + strconv.Itoa(tm.lease),
		"-DRENEW=" + strconv.Itoa(tm.renew),
		"-DMARGIN=" + strconv.Itoa(tm.margin),
		"-DSTOPB=" + strconv.Itoa(tm.stopBudget),
		"-DFS=" + strconv.Itoa(tm.failsafe),
		"-DWD=" + strconv.Itoa(tm.watchdog),
		"-DSKEW=" + strconv.Itoa(tm.skew),
		"-DFSWAIT=" + strconv.Itoa(tm.failsafeWait),
	}
}

// tools returns the paths of spin and gcc, failing (never skipping) the test
// when one is missing.
func tools(t *testing.T) (spin, gcc string) {
	t.Helper()
	var missing []string
	spin, err := exec.LookPath("spin")
	if err != nil {
		missing = append(missing, "spin")
	}
	gcc, err = exec.LookPath("gcc")
	if err != nil {
		missing = append(missing, "gcc")
	}
	if len(missing) > 0 {
		t.Fatalf("%s not found on PATH: %s", strings.Join(missing, " and "), installHint)
	}
	return spin, gcc
}

// result is what one pan run reported.
type result struct {
	dir      string
	defines  []string
	output   string
	errors   int
	states   int64
	depth    int
	elapsed  time.Duration
	truncate bool // the search was cut short (depth or memory)
}

var (
	reErrors = regexp.MustCompile(`errors: (\d+)`)
	reStates = regexp.MustCompile(`(\d+) states, stored`)
	reDepth  = regexp.MustCompile(`depth reached (\d+)`)
)

func run(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// check generates the verifier with spin, compiles it and runs it.
func check(t *testing.T, defines, ccFlags, panFlags []string) result {
	t.Helper()
	spin, gcc := tools(t)
	src, err := os.ReadFile("switchyard.pml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "switchyard.pml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := run(ctx, dir, spin, append(append([]string{"-a"}, defines...), "switchyard.pml")...); err != nil {
		t.Fatalf("spin -a: %v\n%s", err, out)
	}
	cc := append([]string{"-O2", "-w", "-DNOBOUNDCHECK", "-DCOLLAPSE"}, ccFlags...)
	if out, err := run(ctx, dir, gcc, append(cc, "-o", "pan", "pan.c")...); err != nil {
		t.Fatalf("gcc pan.c: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := run(ctx, dir, "./pan", append([]string{"-m1000000", "-w22"}, panFlags...)...)
	r := result{dir: dir, defines: defines, output: out, elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("pan did not finish: %v\n%s", ctx.Err(), out)
	}
	if err != nil {
		// pan exits non-zero when it stops on an error; the counts below say.
		t.Logf("pan exit: %v", err)
	}
	m := reErrors.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no error count in pan's output:\n%s", out)
	}
	r.errors, _ = strconv.Atoi(m[1])
	if m := reStates.FindStringSubmatch(out); m != nil {
		r.states, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reDepth.FindStringSubmatch(out); m != nil {
		r.depth, _ = strconv.Atoi(m[1])
	}
	r.truncate = strings.Contains(out, "max search depth too small") ||
		strings.Contains(out, "out of memory") || strings.Contains(out, "search not completed")
	return r
}

// trail replays the counterexample pan saved and returns its events, one a
// line, each with the model time (ticks and seconds) at which it happened.
func trail(t *testing.T, r result) string {
	t.Helper()
	spin, _ := tools(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := run(ctx, r.dir, spin, append(append([]string{"-t"}, r.defines...), "switchyard.pml")...)
	if err != nil && !strings.Contains(out, "EV") {
		t.Fatalf("spin -t: %v\n%s", err, out)
	}
	var b strings.Builder
	tick := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "TICK":
			tick++
		case strings.HasPrefix(line, "EV "):
			fmt.Fprintf(&b, "t=%5.1fs  %s\n", float64(tick*unitMs)/1000, strings.TrimPrefix(line, "EV "))
		case strings.Contains(line, "START OF CYCLE"):
			fmt.Fprintf(&b, "t=%5.1fs  -- cycle starts (repeats forever) --\n", float64(tick*unitMs)/1000)
		}
	}
	return b.String()
}

func requireClean(t *testing.T, what string, r result) {
	t.Helper()
	t.Logf("%s: %d states stored, depth %d, %.1f s", what, r.states, r.depth, r.elapsed.Seconds())
	if r.truncate {
		t.Fatalf("%s: search incomplete:\n%s", what, r.output)
	}
	if r.errors != 0 {
		t.Fatalf("%s: spin found %d violation(s); counterexample:\n%s\npan output:\n%s",
			what, r.errors, trail(t, r), r.output)
	}
}

// faultKinds are the model's fault switches (switchyard.pml, FAULTS).
var faultKinds = []string{"CRASH", "HANG", "PREC", "PREPL", "JUMP", "DEGRADE", "STEAL", "ABORT", "RETRY", "LOSS"}

// only switches off every fault kind but the ones named.
func only(kinds ...string) []string {
	var d []string
	for _, k := range faultKinds {
		on := false
		for _, w := range kinds {
			on = on || w == k
		}
		if !on {
			d = append(d, "-D"+k+"_ON=0")
		}
	}
	return d
}

// failsafeOff is the configuration with failsafe disabled
// (lease.failsafeReplySeconds -1): no failsafe, so no wait after the
// candidate stops streaming.
var failsafeOff = []string{"-DFS_ON=0", "-DFSWAIT=0"}

// TestSafety checks properties 1 (never two nodes that can acknowledge a
// write) and 2 (no acknowledged write lost under synchronous replication)
// exhaustively, with every fault kind switched on, in two bounds: one fault
// across up to two failovers, and two faults within one failover; and the
// configuration with failsafe disabled.
func TestSafety(t *testing.T) {
	tm := productTiming(t)
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"one fault, two failovers", []string{"-DFAULTS=1", "-DEXEC_MAX=2"}},
		{"two faults, one failover", []string{"-DFAULTS=2", "-DEXEC_MAX=1"}},
		{"failsafe off, one fault, two failovers", append([]string{"-DFAULTS=1", "-DEXEC_MAX=2"}, failsafeOff...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := check(t, append(tm.defines(), c.extra...), []string{"-DSAFETY"}, nil)
			requireClean(t, "safety, "+c.name, r)
		})
	}
}

// TestLiveness checks property 3 under weak fairness: when node 0 (the
// primary) has crashed for good while node 1 is eligible, node 1 eventually
// is the recorded primary and writable; any one other fault may happen
// first.
func TestLiveness(t *testing.T) {
	t.Parallel()
	tm := productTiming(t)
	defs := append(tm.defines(), "-DLIVENESS", "-DFAULTS=1")
	r := check(t, defs, []string{"-DNFAIR=4"}, []string{"-a", "-f"})
	requireClean(t, "liveness (weak fairness)", r)
}

// TestRemovedGuardsAreCaught removes one guard of the protocol at a time and
// requires spin to find the violation it allows, so a model that cannot fail
// does not pass silently. Each runs with only the faults its counterexample
// needs, to stay fast. The counterexamples are logged.
func TestRemovedGuardsAreCaught(t *testing.T) {
	tm := productTiming(t)
	for _, c := range []struct {
		mutant string
		extra  []string
		why    string
	}{
		{"MUTANT_PROMOTE_BEFORE_EXPIRY",
			append(append([]string{"-DFAULTS=2", "-DEXEC_MAX=1"}, only("PREC", "PREPL")...), failsafeOff...),
			"promote without waiting for the old primary's lease to expire (failsafe off)"},
		{"MUTANT_NO_FAILSAFE_WAIT",
			append([]string{"-DFAULTS=2", "-DEXEC_MAX=1"}, only("PREC", "CRASH")...),
			"promote as soon as the candidate stopped streaming, without waiting out the old primary's failsafe"},
		{"MUTANT_NOTFOUND_IS_FENCED",
			[]string{"-DFAULTS=1", "-DEXEC_MAX=1"},
			"a hard fence counted as confirmed when the stop was not observed (a spurious NotFound)"},
		{"MUTANT_NO_ELIGIBLE_AT_PROMOTE",
			[]string{"-DFAULTS=1", "-DEXEC_MAX=1"},
			"the promotion does not re-check the standby's eligibility in its conditional write"},
	} {
		t.Run(c.mutant, func(t *testing.T) {
			t.Parallel()
			defs := append(append(tm.defines(), c.extra...), "-D"+c.mutant)
			r := check(t, defs, []string{"-DSAFETY"}, nil)
			t.Logf("%s (%s): %d states stored, %.1f s, errors %d", c.mutant, c.why, r.states, r.elapsed.Seconds(), r.errors)
			if r.errors == 0 {
				t.Fatalf("%s: spin found no violation with the guard removed: the model no longer tests that guard\n%s", c.mutant, r.output)
			}
			tr := trail(t, r)
			if !strings.Contains(tr, "VIOLATION") {
				t.Fatalf("%s: the counterexample does not end in a violation:\n%s", c.mutant, tr)
			}
			t.Logf("counterexample (spin -t):\n%s", tr)
		})
	}
}
