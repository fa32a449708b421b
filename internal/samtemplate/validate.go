package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/cluster"
)

// TaskTimeoutMarginSeconds is how much longer a Task state's TimeoutSeconds
// must be than its Lambda function's Timeout. Step Functions starts its
// clock when it invokes the function, Lambda when the handler starts (after
// any cold start), so with equal values the state machine can time out and
// move on (to ReportFailure, releasing the lease) while the function is
// still fencing or promoting. With the margin, the function has always
// finished or been stopped by Lambda before the task times out.
const TaskTimeoutMarginSeconds = 5

// Validate loads the template with the given parameters and runs Check.
// A template that does not load gives the single load error.
func Validate(templatePath string, params map[string]string) []error {
	app, err := Load(templatePath, params)
	if err != nil {
		return []error{err}
	}
	return app.Check()
}

// Check runs the structural checks of an evaluated template and returns
// every problem found:
//   - each DefinitionSubstitution is used by the definition (that each
//     ${X} has one is checked by Load);
//   - each Task state's Resource is the Arn of a function of the template
//     (directly or through arn:aws:states:::lambda:invoke), and its
//     TimeoutSeconds is at least the function's Timeout plus
//     TaskTimeoutMarginSeconds;
//   - each function's environment fits Lambda's 4 KB limit;
//   - every function carries the same SWITCHYARD_CONFIG, and it parses with
//     cluster.Parse; its table is the template's table, its
//     detection.alarmName and namespace are the template's alarm's;
//   - an EventBridge rule of the state machine matches that alarm's ALARM
//     state change event, and none matches its return to OK;
//   - each alarm's Period is one CloudWatch accepts (10, 20, 30 or a
//     multiple of 60), within the evaluation range limits, with
//     DatapointsToAlarm ≤ EvaluationPeriods;
//   - each dashboard body is JSON with widgets, and its alarm widgets show
//     alarms of the template.
func (a *App) Check() []error {
	var errs []error
	if a.StateMachine == nil {
		errs = append(errs, fmt.Errorf("the template has no AWS::Serverless::StateMachine"))
	} else {
		errs = append(errs, a.checkSubstitutions()...)
		errs = append(errs, a.checkTasks()...)
	}
	errs = append(errs, a.checkFunctions()...)
	errs = append(errs, a.checkAlarms()...)
	errs = append(errs, a.checkDashboards()...)
	errs = append(errs, a.checkConfig()...)
	return errs
}

// maxEnvironmentBytes is Lambda's limit on the total size of a function's
// environment variables (keys and values).
const maxEnvironmentBytes = 4096

func (a *App) checkFunctions() []error {
	var errs []error
	for _, id := range sortedKeys(a.Functions) {
		size := 0
		for k, v := range a.Functions[id].Environment {
			size += len(k) + len(v)
		}
		if size > maxEnvironmentBytes {
			errs = append(errs, fmt.Errorf("function %s: environment variables take %d bytes, more than Lambda's %d",
				id, size, maxEnvironmentBytes))
		}
	}
	return errs
}

func (a *App) checkSubstitutions() []error {
	used := map[string]bool{}
	for _, v := range definitionVariables(string(a.StateMachine.RawDefinition)) {
		used[v] = true
	}
	var errs []error
	for _, k := range sortedKeys(a.StateMachine.Substitutions) {
		if !used[k] {
			errs = append(errs, fmt.Errorf("state machine %s: DefinitionSubstitution %s is not used by the definition %s",
				a.StateMachine.LogicalID, k, a.StateMachine.definitionName()))
		}
	}
	return errs
}

// taskState is the part of an ASL Task state that Check looks at.
type taskState struct {
	Name           string
	Resource       string
	TimeoutSeconds *float64
	FunctionName   any // Parameters/Arguments.FunctionName of lambda:invoke
}

func (a *App) checkTasks() []error {
	var root map[string]any
	if err := json.Unmarshal(a.StateMachine.Definition, &root); err != nil {
		return []error{fmt.Errorf("state machine %s: definition: %w", a.StateMachine.LogicalID, err)}
	}
	var tasks []taskState
	collectTasks(root, &tasks)
	if len(tasks) == 0 {
		return []error{fmt.Errorf("state machine %s: the definition has no Task state", a.StateMachine.LogicalID)}
	}
	var errs []error
	for _, t := range tasks {
		fn, err := a.taskFunction(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("state machine %s: state %q: %w", a.StateMachine.LogicalID, t.Name, err))
			continue
		}
		if t.TimeoutSeconds == nil {
			continue // ASL default: 99999999 seconds
		}
		if need := float64(fn.Timeout + TaskTimeoutMarginSeconds); *t.TimeoutSeconds < need {
			errs = append(errs, fmt.Errorf("state machine %s: state %q: TimeoutSeconds %v is less than %s's Timeout %d + %d s margin: "+
				"the state machine would give up while the function may still run",
				a.StateMachine.LogicalID, t.Name, *t.TimeoutSeconds, fn.LogicalID, fn.Timeout, TaskTimeoutMarginSeconds))
		}
	}
	return errs
}

// collectTasks finds the Task states of a state machine, including those in
// Parallel branches and Map iterators, in a stable order.
func collectTasks(machine map[string]any, out *[]taskState) {
	states, _ := machine["States"].(map[string]any)
	for _, name := range sortedKeys(states) {
		st, _ := states[name].(map[string]any)
		switch st["Type"] {
		case "Task":
			t := taskState{Name: name}
			t.Resource, _ = st["Resource"].(string)
			if v, ok := st["TimeoutSeconds"].(float64); ok {
				t.TimeoutSeconds = &v
			}
			for _, k := range []string{"Parameters", "Arguments"} {
				if p, ok := st[k].(map[string]any); ok {
					if fn, ok := p["FunctionName"]; ok {
						t.FunctionName = fn
					}
				}
			}
			*out = append(*out, t)
		case "Parallel":
			branches, _ := st["Branches"].([]any)
			for _, b := range branches {
				if bm, ok := b.(map[string]any); ok {
					collectTasks(bm, out)
				}
			}
		case "Map":
			for _, k := range []string{"ItemProcessor", "Iterator"} {
				if p, ok := st[k].(map[string]any); ok {
					collectTasks(p, out)
				}
			}
		}
	}
}

// taskFunction returns the function a Task state invokes.
func (a *App) taskFunction(t taskState) (*Function, error) {
	target := t.Resource
	if strings.HasPrefix(target, "arn:") && strings.Contains(target, ":states:::lambda:invoke") {
		name, ok := t.FunctionName.(string)
		if !ok {
			return nil, fmt.Errorf("task Resource %s without a literal Parameters.FunctionName cannot be checked", t.Resource)
		}
		target = name
	}
	for _, id := range sortedKeys(a.Functions) {
		fn := a.Functions[id]
		if target == fn.Arn || target == fn.FunctionName || strings.HasPrefix(target, fn.Arn+":") {
			return fn, nil
		}
	}
	return nil, fmt.Errorf("task Resource %q is not the Arn of any function in the template", target)
}

// Evaluation range limits of PutMetricAlarm: Period × EvaluationPeriods.
const (
	maxEvaluationRangeShort = 86400  // periods under an hour
	maxEvaluationRangeLong  = 604800 // otherwise
)

func (a *App) checkAlarms() []error {
	var errs []error
	for _, id := range sortedKeys(a.Alarms) {
		al := a.Alarms[id]
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("alarm %s: "+format, append([]any{id}, args...)...))
		}
		p := al.Period
		if !(p == 10 || p == 20 || p == 30 || (p > 0 && p%60 == 0)) {
			bad("Period %d is not 10, 20, 30 or a multiple of 60", p)
		}
		if al.EvaluationPeriods < 1 {
			bad("EvaluationPeriods %d is less than 1", al.EvaluationPeriods)
		}
		if al.DatapointsToAlarm < 0 || al.DatapointsToAlarm > al.EvaluationPeriods {
			bad("DatapointsToAlarm %d is not between 1 and EvaluationPeriods %d", al.DatapointsToAlarm, al.EvaluationPeriods)
		}
		limit := int64(maxEvaluationRangeLong)
		if p < 3600 {
			limit = maxEvaluationRangeShort
		}
		if r := int64(p) * int64(al.EvaluationPeriods); r > limit {
			bad("Period × EvaluationPeriods = %d s exceeds CloudWatch's limit of %d s", r, limit)
		}
	}
	return errs
}

func (a *App) checkConfig() []error {
	raw, errs := a.sharedConfig()
	if raw == "" {
		return errs
	}
	cfg, err := cluster.Parse([]byte(raw))
	if err != nil {
		return append(errs, fmt.Errorf("%s: %w", cluster.EnvConfig, err))
	}
	var tables []string
	for _, id := range sortedKeys(a.Tables) {
		tables = append(tables, a.Tables[id].TableName)
	}
	if !contains(tables, cfg.Table) {
		errs = append(errs, fmt.Errorf("%s: table %q is not a table of the template (%s)", cluster.EnvConfig, cfg.Table, strings.Join(tables, ", ")))
	}
	var names []string
	for _, id := range sortedKeys(a.Alarms) {
		names = append(names, a.Alarms[id].AlarmName)
	}
	fields := []string{"detection.alarmName", "detection.reachabilityAlarmName"}
	for i, name := range cfg.Detection.Alarms() {
		alarm := a.alarmNamed(name)
		if alarm == nil {
			errs = append(errs, fmt.Errorf("%s: %s %q is not an alarm of the template (%s)",
				cluster.EnvConfig, fields[i], name, strings.Join(names, ", ")))
			continue
		}
		if alarm.Namespace != cfg.Detection.Namespace {
			errs = append(errs, fmt.Errorf("%s: detection.namespace %q differs from alarm %s's Namespace %q",
				cluster.EnvConfig, cfg.Detection.Namespace, alarm.LogicalID, alarm.Namespace))
		}
		errs = append(errs, a.checkAlarmRule(alarm)...)
	}
	return errs
}

func (a *App) alarmNamed(name string) *Alarm {
	for _, id := range sortedKeys(a.Alarms) {
		if a.Alarms[id].AlarmName == name {
			return a.Alarms[id]
		}
	}
	return nil
}

// sharedConfig returns the SWITCHYARD_CONFIG every function carries, or
// errors if one lacks it or they differ.
func (a *App) sharedConfig() (string, []error) {
	if len(a.Functions) == 0 {
		return "", []error{fmt.Errorf("the template has no function")}
	}
	byValue := map[string][]string{}
	var errs []error
	for _, id := range sortedKeys(a.Functions) {
		v, ok := a.Functions[id].Environment[cluster.EnvConfig]
		if !ok {
			errs = append(errs, fmt.Errorf("function %s has no %s environment variable", id, cluster.EnvConfig))
			continue
		}
		byValue[v] = append(byValue[v], id)
	}
	if len(byValue) > 1 {
		var groups []string
		for _, ids := range byValue {
			groups = append(groups, "["+strings.Join(ids, " ")+"]")
		}
		sort.Strings(groups)
		errs = append(errs, fmt.Errorf("functions carry different %s values: %s", cluster.EnvConfig, strings.Join(groups, " vs ")))
		return "", errs
	}
	for v := range byValue {
		return v, errs
	}
	return "", errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
