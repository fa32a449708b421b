package asl

import (
	"fmt"
	"strings"
)

// Error names predefined by the Amazon States Language (all begin "States.").
const (
	StatesALL                    = "States.ALL"
	StatesTimeout                = "States.Timeout"
	StatesTaskFailed             = "States.TaskFailed"
	StatesRuntime                = "States.Runtime"
	StatesNoChoiceMatched        = "States.NoChoiceMatched"
	StatesResultPathMatchFailure = "States.ResultPathMatchFailure"
	StatesIntrinsicFailure       = "States.IntrinsicFailure"
	StatesDataLimitExceeded      = "States.DataLimitExceeded"
	StatesPermissions            = "States.Permissions"
	StatesBranchFailed           = "States.BranchFailed"
	StatesParameterPathFailure   = "States.ParameterPathFailure"
	StatesHeartbeatTimeout       = "States.HeartbeatTimeout"
)

// knownStatesErrors lists every "States." name a Retrier or Catcher may use.
var knownStatesErrors = map[string]bool{
	StatesALL: true, StatesTimeout: true, StatesTaskFailed: true, StatesRuntime: true,
	StatesNoChoiceMatched: true, StatesResultPathMatchFailure: true, StatesIntrinsicFailure: true,
	StatesDataLimitExceeded: true, StatesPermissions: true, StatesBranchFailed: true,
	StatesParameterPathFailure: true, StatesHeartbeatTimeout: true,
	"States.ExceedToleratedFailureThreshold": true, "States.ItemReaderFailed": true,
	"States.ResultWriterFailed": true, "States.Http.Socket": true, "States.QueryEvaluationError": true,
}

// DefinitionError reports why Parse rejected a state machine definition.
type DefinitionError struct {
	Where  string // the state (and nested element) at fault, e.g. `state "Fence" Retry[0]`; "" for the top level
	Field  string // the field at fault, "" when the element as a whole is wrong
	Reason string
}

// Error implements error.
func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("asl: invalid definition")
	if e.Where != "" {
		b.WriteString(": " + e.Where)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

func defErr(where, field, format string, args ...any) *DefinitionError {
	return &DefinitionError{Where: where, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// failure is a state error travelling up the execution: a named error with
// its cause, or an abort because the execution's context ended.
type failure struct {
	name, cause string
	aborted     bool
}

func fail(name, format string, args ...any) *failure {
	return &failure{name: name, cause: fmt.Sprintf(format, args...)}
}

func runtimeFailure(format string, args ...any) *failure {
	return fail(StatesRuntime, format, args...)
}

var abortFailure = &failure{aborted: true, name: "States.Aborted", cause: "execution aborted"}

// handleable reports whether Retry and Catch may see f. States.Runtime and
// States.DataLimitExceeded are terminal in Step Functions; aborts end
// everything.
func (f *failure) handleable() bool {
	return !f.aborted && f.name != StatesRuntime && f.name != StatesDataLimitExceeded
}

// errorMatches reports whether an ErrorEquals list matches an error name.
// States.TaskFailed matches every error except States.Timeout.
func errorMatches(errorEquals []string, name string) bool {
	for _, e := range errorEquals {
		switch {
		case e == name, e == StatesALL:
			return true
		case e == StatesTaskFailed && name != StatesTimeout:
			return true
		}
	}
	return false
}
