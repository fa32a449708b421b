package asl

import (
	"context"
	"time"
)

// runScope runs the states of a scope from its StartAt until a terminal state.
func (r *runner) runScope(ctx context.Context, sc *scope, input any) (any, *failure) {
	name := sc.startAt
	for {
		if ctx.Err() != nil {
			return nil, abortFailure
		}
		st := sc.states[name]
		out, next, f := r.runState(ctx, st, input)
		if f != nil {
			return nil, f
		}
		if next == "" {
			return out, nil
		}
		name, input = next, out
	}
}

// runState runs one state and returns its output and the next state's name
// ("" when the state ends its scope).
func (r *runner) runState(ctx context.Context, st *state, input any) (any, string, *failure) {
	entered := r.opts.Now()
	r.emit(Event{Type: st.typ + "StateEntered", StateName: st.name, Input: r.raw(input)})
	var (
		out  any
		next string
		f    *failure
	)
	switch st.typ {
	case "Task":
		out, next, f = r.runWithHandlers(ctx, st, input, func(retry int64) (any, *failure) {
			return r.runTask(ctx, st, input, r.contextObject(st, entered, retry, nil))
		})
	case "Parallel":
		out, next, f = r.runWithHandlers(ctx, st, input, func(retry int64) (any, *failure) {
			return r.runParallel(ctx, st, input, r.contextObject(st, entered, retry, nil))
		})
	case "Map":
		out, next, f = r.runWithHandlers(ctx, st, input, func(retry int64) (any, *failure) {
			return r.runMap(ctx, st, input, entered, retry)
		})
	case "Pass":
		out, f = r.runPass(st, input, r.contextObject(st, entered, 0, nil))
		next = st.next
	case "Wait":
		out, f = r.runWait(ctx, st, input)
		next = st.next
	case "Choice":
		out, next, f = r.runChoice(st, input, r.contextObject(st, entered, 0, nil))
	case "Succeed":
		out, f = r.runSucceed(st, input)
	case "Fail":
		return nil, "", r.runFail(st, input, r.contextObject(st, entered, 0, nil))
	}
	if f != nil {
		if f.aborted && st.typ != "Pass" && st.typ != "Choice" && st.typ != "Succeed" {
			r.emit(Event{Type: st.typ + "StateAborted", StateName: st.name})
		}
		return nil, "", f
	}
	r.emit(Event{Type: st.typ + "StateExited", StateName: st.name, Output: r.raw(out)})
	return out, next, nil
}

// runWithHandlers runs attempt (the work of a Task, Parallel or Map state),
// retries it as the state's Retry field says and routes a final error
// through Catch. attempt receives the number of retries made so far
// ($$.State.RetryCount).
func (r *runner) runWithHandlers(ctx context.Context, st *state, input any, attempt func(retry int64) (any, *failure)) (any, string, *failure) {
	counts := make([]int64, len(st.retry))
	var retries int64
	for {
		out, f := attempt(retries)
		if f == nil {
			return out, st.next, nil
		}
		if !f.handleable() || ctx.Err() != nil {
			return nil, "", f
		}
		if i := matchRetrier(st.retry, f.name); i >= 0 && counts[i] < st.retry[i].maxAttempts {
			d := st.retry[i].delay(counts[i], r.opts.Random)
			counts[i]++
			retries++
			if err := r.opts.Sleep(ctx, d); err != nil {
				return nil, "", abortFailure
			}
			continue
		}
		for _, c := range st.catch {
			if !errorMatches(c.errorEquals, f.name) {
				continue
			}
			if c.resultPath == nil {
				return input, c.next, nil
			}
			out, err := c.resultPath.set(input, map[string]any{"Error": f.name, "Cause": f.cause})
			if err != nil {
				return nil, "", runtimeFailure("Unable to apply the Catch ResultPath '%s' of state '%s' to input %s: %v",
					c.resultPath.text, st.name, jsonText(input), err)
			}
			return out, c.next, nil
		}
		return nil, "", f
	}
}

// matchRetrier returns the index of the first retrier matching name, or -1.
func matchRetrier(rs []retrier, name string) int {
	for i := range rs {
		if errorMatches(rs[i].errorEquals, name) {
			return i
		}
	}
	return -1
}

// selectPath applies InputPath, OutputPath or ItemsPath: nil (JSON null)
// yields an empty object; a path matching nothing is a States.Runtime error.
func selectPath(p *jsonPath, v any, field string, ctxObj any) (any, *failure) {
	if p == nil {
		return map[string]any{}, nil
	}
	src := v
	if p.context {
		src = ctxObj
	}
	out, ok := p.lookup(src)
	if !ok {
		return nil, runtimeFailure("Invalid path '%s' for %s: No results for the path in %s", p.text, field, jsonText(src))
	}
	return out, nil
}

// effectiveInput applies InputPath and then Parameters.
func (r *runner) effectiveInput(st *state, input any, ctxObj any) (any, *failure) {
	eff, f := selectPath(st.inputPath, input, "InputPath", ctxObj)
	if f != nil || st.parameters == nil {
		return eff, f
	}
	return st.parameters.eval(&evalEnv{input: eff, ctx: ctxObj})
}

// applyResult applies ResultSelector, ResultPath and OutputPath to a result.
func (r *runner) applyResult(st *state, input, result any, ctxObj any) (any, *failure) {
	if st.resultSelector != nil {
		var f *failure
		if result, f = st.resultSelector.eval(&evalEnv{input: result, ctx: ctxObj}); f != nil {
			return nil, f
		}
	}
	out := input
	if st.resultPath != nil {
		var err error
		if out, err = st.resultPath.set(input, result); err != nil {
			return nil, fail(StatesResultPathMatchFailure, "Unable to apply ResultPath '%s' to input %s: %v",
				st.resultPath.text, jsonText(input), err)
		}
	}
	return selectPath(st.outputPath, out, "OutputPath", ctxObj)
}

func (r *runner) runPass(st *state, input any, ctxObj any) (any, *failure) {
	eff, f := r.effectiveInput(st, input, ctxObj)
	if f != nil {
		return nil, f
	}
	if st.pass.hasResult {
		eff = st.pass.result
	}
	return r.applyResult(st, input, eff, ctxObj)
}

func (r *runner) runSucceed(st *state, input any) (any, *failure) {
	eff, f := selectPath(st.inputPath, input, "InputPath", nil)
	if f != nil {
		return nil, f
	}
	return selectPath(st.outputPath, eff, "OutputPath", nil)
}

func (r *runner) runChoice(st *state, input any, ctxObj any) (any, string, *failure) {
	eff, f := selectPath(st.inputPath, input, "InputPath", ctxObj)
	if f != nil {
		return nil, "", f
	}
	env := &evalEnv{input: eff, ctx: ctxObj}
	next := st.choice.def
	for _, rule := range st.choice.rules {
		ok, f := rule.eval(env)
		if f != nil {
			return nil, "", f
		}
		if ok {
			next = rule.next
			break
		}
	}
	if next == "" {
		return nil, "", fail(StatesNoChoiceMatched, "No Matches! State '%s' has no Choice rule matching its input and no Default", st.name)
	}
	out, f := selectPath(st.outputPath, eff, "OutputPath", ctxObj)
	return out, next, f
}

func (r *runner) runWait(ctx context.Context, st *state, input any) (any, *failure) {
	eff, f := selectPath(st.inputPath, input, "InputPath", nil)
	if f != nil {
		return nil, f
	}
	w := st.wait
	var d time.Duration
	switch {
	case w.secondsPath != nil:
		v, ok := w.secondsPath.lookup(eff)
		n, isInt := asInt(v)
		if !ok || !isInt || n < 0 {
			return nil, runtimeFailure("The SecondsPath '%s' of state '%s' does not select a non-negative integer in %s",
				w.secondsPath.text, st.name, jsonText(eff))
		}
		d = time.Duration(n) * time.Second
	case w.timestampPath != nil:
		v, ok := w.timestampPath.lookup(eff)
		s, isStr := v.(string)
		t, valid := parseTimestamp(s)
		if !ok || !isStr || !valid {
			return nil, runtimeFailure("The TimestampPath '%s' of state '%s' does not select an RFC 3339 timestamp in %s",
				w.timestampPath.text, st.name, jsonText(eff))
		}
		d = t.Sub(r.opts.Now())
	case !w.timestamp.IsZero():
		d = w.timestamp.Sub(r.opts.Now())
	default:
		d = time.Duration(w.seconds) * time.Second
	}
	if d > 0 {
		if err := r.opts.Sleep(ctx, d); err != nil {
			return nil, abortFailure
		}
	}
	return selectPath(st.outputPath, eff, "OutputPath", nil)
}

func (r *runner) runFail(st *state, input any, ctxObj any) *failure {
	name, cause := st.fail.errName, st.fail.cause
	env := &evalEnv{input: input, ctx: ctxObj}
	for _, e := range []struct {
		x   expr
		dst *string
		fld string
	}{{st.fail.errExpr, &name, "ErrorPath"}, {st.fail.causeExpr, &cause, "CausePath"}} {
		if e.x == nil {
			continue
		}
		v, f := e.x.eval(env, e.fld)
		if f != nil {
			return f
		}
		s, ok := v.(string)
		if !ok {
			return runtimeFailure("The %s of state '%s' must produce a string, got %s", e.fld, st.name, jsonText(v))
		}
		*e.dst = s
	}
	return &failure{name: name, cause: cause}
}
