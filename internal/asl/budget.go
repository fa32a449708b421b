package asl

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// DefaultTaskTimeoutSeconds is the TimeoutSeconds WorstCase assumes for a
// Task state that sets neither TimeoutSeconds nor TimeoutSecondsPath. The
// Amazon States Language specification gives 60 s as the default; Step
// Functions itself waits much longer (up to the execution timeout), so a
// definition that relies on the default is only as bounded as this figure
// pretends. Set TimeoutSeconds on every Task.
const DefaultTaskTimeoutSeconds = 60

// ErrUnbounded says that WorstCase cannot bound a path: a loop, a Wait or
// Task whose duration comes from the input (SecondsPath, Timestamp,
// TimestampPath, TimeoutSecondsPath) or a Map state (its number of
// iterations comes from the input).
var ErrUnbounded = errors.New("asl: the duration is not bounded by the definition")

// Budget is the worst-case duration of a state machine: the longest path
// from StartAt to a terminal state, every state on it taking as long as the
// definition lets it.
type Budget struct {
	Seconds float64      // total of Path
	Path    []BudgetStep // the critical path, StartAt first
}

// BudgetStep is one state of a critical path and what it may cost.
type BudgetStep struct {
	State string
	Type  string
	// Attempts is how many times a Task, Parallel or Map state may run (the
	// first attempt plus every retry); 0 for other states.
	Attempts int64
	// AttemptSeconds is the worst case of one attempt: a Task's
	// TimeoutSeconds, a Parallel state's slowest branch.
	AttemptSeconds float64
	// BackoffSeconds is the sum of the Retry intervals between attempts.
	BackoffSeconds float64
	// Seconds is the state's total: Attempts × AttemptSeconds +
	// BackoffSeconds, or a Wait state's Seconds.
	Seconds float64
	// Via is the field of the transition taken out of the state ("Next",
	// "Catch[0].Next", "Choices[1].Next", "Default"); "" for the last state.
	Via string
}

// String renders the step as "Fence 1×130s+0s=130s via Catch[0].Next".
func (s BudgetStep) String() string {
	var b strings.Builder
	b.WriteString(s.State)
	if s.Attempts > 0 {
		fmt.Fprintf(&b, " %d×%gs+%gs", s.Attempts, s.AttemptSeconds, s.BackoffSeconds)
	}
	fmt.Fprintf(&b, "=%gs", s.Seconds)
	if s.Via != "" {
		b.WriteString(" via " + s.Via)
	}
	return b.String()
}

// WorstCase computes the worst-case duration of the longest path from
// StartAt to any terminal state (Succeed, Fail or "End": true). The model is
// deliberately conservative, so that a definition whose WorstCase fits its
// TimeoutSeconds can never be stopped by the execution timeout:
//
//   - Every attempt of a Task takes its full TimeoutSeconds
//     (DefaultTaskTimeoutSeconds when absent), whether or not a retrier
//     matches States.Timeout: a retryable error may arrive just before the
//     timeout.
//   - Retriers keep separate counters, and successive attempts may fail
//     with different errors, each handled by a different retrier. So a state
//     may make 1 + Σ MaxAttempts attempts over all its retriers, and wait
//     Σ over retriers of Σ_{k<MaxAttempts} min(IntervalSeconds ×
//     BackoffRate^k, MaxDelaySeconds) between them. For a single retrier
//     this is exact; with several it is an upper bound. JitterStrategy FULL
//     only shortens intervals and is ignored.
//   - Next and every Catch lead on from the state after all its attempts
//     (a Catch after the last attempt); a Choice may take any of its rules
//     or its Default at no cost; a Wait costs its Seconds; Pass, Succeed and
//     Fail cost nothing.
//   - A Parallel attempt takes as long as its slowest branch.
//
// Paths that revisit a state (loops), and states whose duration the
// definition does not fix (see ErrUnbounded), are reported as an error
// wrapping ErrUnbounded instead of being followed. Transition times of Step
// Functions itself are not counted: the caller adds a margin.
func (m *Machine) WorstCase() (Budget, error) {
	b, err := newBudgeter().longest(m.root)
	if err != nil {
		return Budget{}, fmt.Errorf("asl: worst case: %w", err)
	}
	return b, nil
}

// budgeter memoises the longest path from each state (state names are
// unique across the whole machine) and tracks the states of the path being
// explored, to find loops.
type budgeter struct {
	memo    map[string]Budget
	onStack map[string]bool
	stack   []string
}

func newBudgeter() *budgeter {
	return &budgeter{memo: map[string]Budget{}, onStack: map[string]bool{}}
}

// longest returns the longest path through a scope, from its StartAt.
func (b *budgeter) longest(sc *scope) (Budget, error) {
	return b.from(sc, sc.startAt)
}

func (b *budgeter) from(sc *scope, name string) (Budget, error) {
	if got, ok := b.memo[name]; ok {
		return got, nil
	}
	if b.onStack[name] {
		i := len(b.stack) - 1
		for i > 0 && b.stack[i] != name {
			i--
		}
		loop := append(append([]string(nil), b.stack[i:]...), name)
		return Budget{}, fmt.Errorf("%w: the path %s loops", ErrUnbounded, strings.Join(loop, " → "))
	}
	b.onStack[name] = true
	b.stack = append(b.stack, name)
	defer func() {
		delete(b.onStack, name)
		b.stack = b.stack[:len(b.stack)-1]
	}()

	st := sc.states[name]
	step, err := b.cost(st)
	if err != nil {
		return Budget{}, err
	}
	best := Budget{Seconds: step.Seconds, Path: []BudgetStep{step}}
	found := false
	for _, t := range st.targets {
		rest, err := b.from(sc, t.to)
		if err != nil {
			return Budget{}, err
		}
		if !found || rest.Seconds > best.Seconds-step.Seconds {
			found = true
			s := step
			s.Via = t.field
			best = Budget{Seconds: step.Seconds + rest.Seconds, Path: append([]BudgetStep{s}, rest.Path...)}
		}
	}
	b.memo[name] = best
	return best, nil
}

// cost is the worst-case time spent in one state, retries included.
func (b *budgeter) cost(st *state) (BudgetStep, error) {
	step := BudgetStep{State: st.name, Type: st.typ}
	switch {
	case st.task != nil:
		if st.task.timeoutPath != nil {
			return step, fmt.Errorf("%w: %s takes its TimeoutSecondsPath from the input", ErrUnbounded, st.where)
		}
		step.AttemptSeconds = float64(st.task.timeoutSeconds)
		if st.task.timeoutSeconds == 0 {
			step.AttemptSeconds = DefaultTaskTimeoutSeconds
		}
	case st.wait != nil:
		if st.wait.secondsPath != nil || st.wait.timestampPath != nil || !st.wait.timestamp.IsZero() {
			return step, fmt.Errorf("%w: %s waits for a time the definition does not fix", ErrUnbounded, st.where)
		}
		step.Seconds = float64(st.wait.seconds)
		return step, nil
	case st.parallel != nil:
		for _, br := range st.parallel.branches {
			got, err := newBudgeter().longest(br)
			if err != nil {
				return step, fmt.Errorf("%s: %w", st.where, err)
			}
			step.AttemptSeconds = math.Max(step.AttemptSeconds, got.Seconds)
		}
	case st.mapState != nil:
		return step, fmt.Errorf("%w: %s runs as many iterations as its input has items", ErrUnbounded, st.where)
	default: // Choice, Pass, Succeed, Fail
		return step, nil
	}
	step.Attempts, step.BackoffSeconds = retryBudget(st.retry)
	step.Seconds = float64(step.Attempts)*step.AttemptSeconds + step.BackoffSeconds
	return step, nil
}

// retryBudget returns the most attempts the retriers allow (1 + Σ
// MaxAttempts) and the longest total wait between them, each interval as
// retrier.delay computes it without jitter.
func retryBudget(rs []retrier) (attempts int64, backoff float64) {
	attempts = 1
	for _, r := range rs {
		r.fullJitter = false // jitter only shortens an interval
		attempts += r.maxAttempts
		for k := range r.maxAttempts {
			backoff += r.delay(k, nil).Seconds()
		}
	}
	return attempts, backoff
}
