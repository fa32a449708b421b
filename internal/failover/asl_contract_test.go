package failover

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/asl"
)

// The error-handling contract between the handlers and
// statemachine/failover.asl.json, read from the ASL itself.

// aslDefinition is the part of the ASL these tests read.
type aslDefinition struct {
	StartAt string              `json:"StartAt"`
	States  map[string]aslState `json:"States"`
}

type aslState struct {
	Type           string  `json:"Type"`
	TimeoutSeconds int     `json:"TimeoutSeconds"`
	Resource       string  `json:"Resource"`
	Next           string  `json:"Next"`
	Default        string  `json:"Default"`
	ResultPath     *string `json:"ResultPath"`
	Choices        []struct {
		Variable      string  `json:"Variable"`
		StringEquals  *string `json:"StringEquals"`
		BooleanEquals *bool   `json:"BooleanEquals"`
		Next          string  `json:"Next"`
	} `json:"Choices"`
	Retry []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		MaxAttempts *int     `json:"MaxAttempts"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		Next        string   `json:"Next"`
		ResultPath  *string  `json:"ResultPath"`
	} `json:"Catch"`
}

// aslTask is an ASL Resource placeholder, the handler wired to it, and the
// ResultPath its output must go to.
type aslTask struct {
	resource   string
	handler    any
	resultPath string
}

var aslTasks = []aslTask{
	{"${IntakeFunctionArn}", (&Intake{}).Handle, "$"},
	{"${LeaseFunctionArn}", (&LeaseStep{}).Handle, "$.lease"},
	{"${AssessFunctionArn}", (&AssessStep{}).Handle, "$.assessment"},
	{"${FenceFunctionArn}", (&FenceStep{}).Handle, "$.fence"},
	{"${PromoteFunctionArn}", (&PromoteStep{}).Handle, "$.promote"},
	{"${RerouteFunctionArn}", (&RerouteStep{}).Handle, "$.reroute"},
	{"${VerifyFunctionArn}", (&VerifyStep{}).Handle, "$.verify"},
	{"${RecordFunctionArn}", (&RecordStep{}).Handle, "$.record"},
	{"${ReportFunctionArn}", (&ReportStep{}).Handle, "$.report"},
	{"${RearmFunctionArn}", (&RearmStep{}).Handle, "$.rearm"},
}

const (
	reportResource = "${ReportFunctionArn}"
	// rearmResource runs after the lease was released, on the paths that
	// end without a failover; its failure must not turn them into failures.
	rearmResource = "${RearmFunctionArn}"
)

// handlerErrorNames are the errorType names of every error type the
// handlers return, as Lambda reports them.
func handlerErrorNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, err := range []error{&InputError{}, &TransientError{}, &StepFailed{}, &FenceNotConfirmed{}} {
		names = append(names, asl.ErrorType(err))
	}
	want := []string{"InputError", "TransientError", "StepFailed", "FenceNotConfirmed"}
	if !slices.Equal(names, want) {
		t.Fatalf("the handlers' error types are named %v, the state machine matches %v", names, want)
	}
	return names
}

func loadASL(t *testing.T) aslDefinition {
	t.Helper()
	data, err := os.ReadFile(aslFile)
	if err != nil {
		t.Fatal(err)
	}
	var d aslDefinition
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", aslFile, err)
	}
	if _, ok := d.States[d.StartAt]; !ok || len(d.States) == 0 {
		t.Fatalf("%s: StartAt %q is not a state", aslFile, d.StartAt)
	}
	return d
}

// successors lists every state a state may go to: Next, Choice rules and
// Default, and Catch targets.
func (s aslState) successors() []string {
	var out []string
	if s.Next != "" {
		out = append(out, s.Next)
	}
	for _, c := range s.Choices {
		out = append(out, c.Next)
	}
	if s.Default != "" {
		out = append(out, s.Default)
	}
	for _, c := range s.Catch {
		out = append(out, c.Next)
	}
	return out
}

// reachable returns the states reachable from the given ones (inclusive),
// never entering a state named in avoid.
func (d aslDefinition) reachable(from []string, avoid ...string) map[string]bool {
	seen := map[string]bool{}
	queue := slices.Clone(from)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] || slices.Contains(avoid, name) {
			continue
		}
		seen[name] = true
		queue = append(queue, d.States[name].successors()...)
	}
	return seen
}

// catcher returns the Catch that handles errorName, as Step Functions picks
// it: the first whose ErrorEquals names it or is States.ALL.
func (s aslState) catcher(errorName string) (next string, ok bool) {
	for _, c := range s.Catch {
		if slices.Contains(c.ErrorEquals, errorName) || slices.Contains(c.ErrorEquals, "States.ALL") {
			return c.Next, true
		}
	}
	return "", false
}

func (s aslState) retries(errorName string) bool {
	for _, r := range s.Retry {
		if slices.Contains(r.ErrorEquals, errorName) || slices.Contains(r.ErrorEquals, "States.ALL") {
			return true
		}
	}
	return false
}

// deref shows an optional ASL string field ("<absent or null>" when unset).
func deref(p *string) string {
	if p == nil {
		return "<absent or null>"
	}
	return *p
}

func sortedNames(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestASLMatchesTheHandlersErrorNames(t *testing.T) {
	d := loadASL(t)
	names := handlerErrorNames(t)
	for name, st := range d.States {
		var lists [][]string
		for _, r := range st.Retry {
			lists = append(lists, r.ErrorEquals)
		}
		for _, c := range st.Catch {
			lists = append(lists, c.ErrorEquals)
		}
		for _, l := range lists {
			for _, e := range l {
				// A misspelt name never matches and fails silently.
				if !slices.Contains(names, e) && !strings.HasPrefix(e, "States.") && !strings.HasPrefix(e, "Lambda.") {
					t.Errorf("%s matches %q, which no handler returns (handler errors: %v)", name, e, names)
				}
			}
		}
		// Only TransientError is worth retrying: a retried refusal, a
		// retried unconfirmed fence or a retried bad input only delays the
		// failure report.
		for _, r := range st.Retry {
			for _, e := range r.ErrorEquals {
				if e == "States.ALL" || e == "States.TaskFailed" || (slices.Contains(names, e) && e != "TransientError") {
					t.Errorf("%s retries %s: only TransientError (and Lambda service errors) may be retried", name, e)
				}
			}
		}
	}
}

func TestASLTasksWriteTheirPartOfTheState(t *testing.T) {
	d := loadASL(t)
	stateFields := map[string]reflect.Type{}
	st := reflect.TypeFor[State]()
	for i := range st.NumField() {
		tag, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		stateFields["$."+tag] = st.Field(i).Type
	}
	used := map[string]bool{}
	for name, s := range d.States {
		if s.Type != "Task" {
			continue
		}
		i := slices.IndexFunc(aslTasks, func(x aslTask) bool { return x.resource == s.Resource })
		if i < 0 {
			t.Errorf("task %s: resource %q is not one of the handlers", name, s.Resource)
			continue
		}
		task := aslTasks[i]
		used[task.resource] = true
		if got := deref(s.ResultPath); got != task.resultPath {
			t.Errorf("task %s: ResultPath %s, want %q", name, got, task.resultPath)
			continue
		}
		out := reflect.TypeOf(task.handler).Out(0)
		if task.resultPath == "$" {
			if out != st {
				t.Errorf("task %s replaces the state but its handler returns %s", name, out)
			}
			continue
		}
		field, ok := stateFields[task.resultPath]
		if !ok {
			t.Errorf("task %s writes %s, which is not a field of State", name, task.resultPath)
			continue
		}
		if field != out && !(field.Kind() == reflect.Pointer && field.Elem() == out) {
			t.Errorf("task %s writes a %s into State field %s of type %s", name, out, task.resultPath, field)
		}
		for _, c := range s.Catch {
			if task.resource == rearmResource || task.resource == reportResource {
				if got := deref(c.ResultPath); got == "$.error" {
					t.Errorf("task %s: the re-arm's or the report's own error must not overwrite the error being reported at $.error", name)
				}
				continue
			}
			if got := deref(c.ResultPath); got != "$.error" {
				t.Errorf("task %s: a Catch puts the error at %s; the failure report reads $.error", name, got)
			}
		}
	}
	for _, task := range aslTasks {
		if !used[task.resource] {
			t.Errorf("handler %s is used by no task", task.resource)
		}
	}
	if _, ok := stateFields["$.error"]; !ok {
		t.Error("State has no field for the Catch output at $.error")
	}
}

func TestASLRoutesEveryHandlerError(t *testing.T) {
	d := loadASL(t)
	names := handlerErrorNames(t)

	// Intake: a rejected input (or anything else) ends the execution at
	// once in a Fail state, before the lease: nothing was touched.
	intake := d.States[d.StartAt]
	if intake.Resource != "${IntakeFunctionArn}" {
		t.Fatalf("the machine starts at %s (%s), want the Intake task", d.StartAt, intake.Resource)
	}
	for _, e := range names {
		next, ok := intake.catcher(e)
		if !ok || d.States[next].Type != "Fail" {
			t.Errorf("Intake: %s goes to %q, want a Fail state", e, next)
		}
	}
	if intake.retries("InputError") {
		t.Error("Intake retries InputError")
	}

	// From the lease on, every Task retries TransientError, and every Task
	// but the report itself catches every handler error into ReportFailure,
	// which releases the lease.
	lease := intake.Next
	if d.States[lease].Resource != "${LeaseFunctionArn}" {
		t.Fatalf("Intake goes to %s, want the lease task", lease)
	}
	report, ok := d.States["ReportFailure"]
	if !ok || report.Type != "Task" || report.Resource != reportResource {
		t.Fatalf("ReportFailure is %+v, want the report task", report)
	}
	if d.States[report.Next].Type != "Fail" {
		t.Errorf("ReportFailure goes to %s, want a Fail state: a failed failover must not end as a success", report.Next)
	}
	afterLease := d.reachable(d.States[lease].successors())
	var tasks []string
	for _, name := range sortedNames(d.reachable([]string{lease})) {
		if d.States[name].Type == "Task" {
			tasks = append(tasks, name)
		}
	}
	if len(tasks) < 8 {
		t.Fatalf("only %d tasks from the lease on: %v", len(tasks), tasks)
	}
	for _, name := range tasks {
		s := d.States[name]
		if !s.retries("TransientError") {
			t.Errorf("%s does not retry TransientError", name)
		}
		if !afterLease[name] {
			continue // the lease itself: nothing to release yet
		}
		if s.Resource == reportResource {
			if d.States[s.Next].Type != "Fail" && !strings.HasPrefix(s.Next, "Rearm") {
				t.Errorf("report task %s goes to %s, want a Fail state (or the re-arm on the way to it)", name, s.Next)
			}
			// A failed report still ends the execution FAILED (the cleanup
			// rule then releases the lock and re-arms), never stuck.
			for _, e := range names {
				if next, ok := s.catcher(e); !ok || d.States[next].Type != "Fail" {
					t.Errorf("report task %s: %s goes to %q, want a Fail state", name, e, next)
				}
			}
			continue
		}
		if s.Resource == rearmResource {
			for _, e := range names {
				if next, ok := s.catcher(e); !ok || next != s.Next {
					t.Errorf("%s: %s goes to %q, want %q: a failed re-arm ends the run as it would have ended", name, e, next, s.Next)
				}
			}
			continue
		}
		for _, e := range names {
			next, ok := s.catcher(e)
			if !ok || next != "ReportFailure" {
				t.Errorf("%s: %s (after its retries) goes to %q, want ReportFailure", name, e, next)
			}
		}
	}
}

func TestASLNeverPromotesWithoutAConfirmedFence(t *testing.T) {
	d := loadASL(t)
	fence, promote := "Fence", "Promote"
	if d.States[fence].Resource != "${FenceFunctionArn}" || d.States[promote].Resource != "${PromoteFunctionArn}" {
		t.Fatalf("states %s and %s are not the fence and promote tasks", fence, promote)
	}
	if d.States[fence].Next != promote {
		t.Errorf("Fence succeeds into %q, want %q", d.States[fence].Next, promote)
	}
	// No path from any of Fence's Catch targets reaches Promote.
	for _, c := range d.States[fence].Catch {
		if r := d.reachable([]string{c.Next}); r[promote] {
			t.Errorf("Fence's Catch %v goes to %s, from which Promote is reachable", c.ErrorEquals, c.Next)
		}
	}
	// The only ways into Promote are Fence's success and the decision to
	// resume a handover whose grant (store.GrantPrimary, re-checked by
	// Promote) proves an earlier execution's confirmed fence.
	var into []string
	for _, name := range sortedNames(d.reachable([]string{d.StartAt})) {
		s := d.States[name]
		if s.Next == promote || s.Default == promote {
			into = append(into, name)
		}
		for _, c := range s.Choices {
			if c.Next == promote {
				into = append(into, name+"("+deref(c.StringEquals)+")")
			}
		}
		for _, c := range s.Catch {
			if c.Next == promote {
				into = append(into, name+"(catch)")
			}
		}
	}
	if want := []string{"Decision(" + DecisionResume + ")", fence}; !slices.Equal(into, want) {
		t.Errorf("transitions into Promote: %v, want only %v", into, want)
	}
	// Fence runs only on a decision to proceed; every other decision (the
	// Default included) stays clear of Fence and Promote.
	var decision aslState
	for _, s := range d.States {
		if s.Type == "Choice" && len(s.Choices) > 0 && s.Choices[0].Variable == "$.assessment.decision" {
			decision = s
		}
	}
	if decision.Type == "" {
		t.Fatal("no Choice on $.assessment.decision")
	}
	for _, c := range decision.Choices {
		if c.StringEquals == nil {
			t.Errorf("decision rule %+v does not compare a string", c)
			continue
		}
		switch *c.StringEquals {
		case DecisionProceed:
			if c.Next != fence {
				t.Errorf("decision %q goes to %s, want %s", DecisionProceed, c.Next, fence)
			}
		case DecisionResume:
			if c.Next != promote {
				t.Errorf("decision %q goes to %s, want %s", DecisionResume, c.Next, promote)
			}
		case DecisionNoAction:
			if r := d.reachable([]string{c.Next}); r[fence] || r[promote] {
				t.Errorf("decision %q leads to the fence or promote", DecisionNoAction)
			}
		default:
			t.Errorf("decision rule compares %q, which Assess never decides", *c.StringEquals)
		}
	}
	if r := d.reachable([]string{decision.Default}); r[fence] || r[promote] {
		t.Errorf("the Default decision (%q and anything unknown) leads to the fence or promote", DecisionRefuse)
	}
}
