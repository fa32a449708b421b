package asl

import (
	"fmt"
	"strings"
	"time"
)

// state is one compiled state of any type; the pointer of its type's spec is
// set, the others are nil.
type state struct {
	name, typ, where string
	next             string
	end              bool
	targets          []transition

	inputPath, outputPath *jsonPath // nil: JSON null (an empty object)
	resultPath            *jsonPath // nil: JSON null (the result is discarded)
	parameters            tnode     // nil when absent
	resultSelector        tnode     // nil when absent
	retry                 []retrier
	catch                 []catcher

	task     *taskSpec
	choice   *choiceSpec
	wait     *waitSpec
	pass     *passSpec
	fail     *failSpec
	parallel *parallelSpec
	mapState *mapSpec
}

type passSpec struct {
	result    any
	hasResult bool
}

type waitSpec struct {
	seconds       int64
	secondsPath   *jsonPath
	timestamp     time.Time
	timestampPath *jsonPath
}

type failSpec struct {
	errName, cause     string
	errExpr, causeExpr expr
}

type parallelSpec struct {
	branches []*scope
}

type mapSpec struct {
	itemsPath          *jsonPath
	itemSelector       tnode
	maxConcurrency     int64
	maxConcurrencyPath *jsonPath
	processor          *scope
}

func parseState(name string, v any, where string, names map[string]string) (*state, error) {
	o, err := asObject(v, where, "")
	if err != nil {
		return nil, err
	}
	typ, err := o.reqStr("Type")
	if err != nil {
		return nil, err
	}
	st := &state{name: name, typ: typ, where: where, inputPath: rootPath, outputPath: rootPath, resultPath: rootPath}
	if _, _, err := o.str("Comment"); err != nil {
		return nil, err
	}
	if err := parseQueryLanguage(o); err != nil {
		return nil, err
	}
	switch typ {
	case "Pass":
		err = st.parsePass(o)
	case "Task":
		err = st.parseTask(o)
	case "Choice":
		err = st.parseChoice(o)
	case "Wait":
		err = st.parseWait(o)
	case "Succeed":
		err = st.parseInputOutput(o)
	case "Fail":
		err = st.parseFail(o)
	case "Parallel":
		err = st.parseParallel(o, names)
	case "Map":
		err = st.parseMap(o, names)
	default:
		return nil, o.err("Type", "unknown state type %q", typ)
	}
	if err != nil {
		return nil, err
	}
	if err := o.unknown("a " + typ + " state"); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *state) parseNextEnd(o *object) error {
	next, hasNext, err := o.str("Next")
	if err != nil {
		return err
	}
	end, hasEnd, err := o.boolean("End")
	if err != nil {
		return err
	}
	switch {
	case hasNext && hasEnd:
		return o.err("End", "Next and End are mutually exclusive")
	case hasNext:
		st.next = next
		st.targets = append(st.targets, transition{field: "Next", to: next})
	case end:
		st.end = true
	case hasEnd:
		return o.err("End", "must be true when present; use Next to continue")
	default:
		return o.err("Next", "a %s state needs either Next or \"End\": true", st.typ)
	}
	return nil
}

func (st *state) parseInputOutput(o *object) error {
	var err error
	if st.inputPath, _, err = o.path("InputPath", rootPath); err != nil {
		return err
	}
	st.outputPath, _, err = o.path("OutputPath", rootPath)
	return err
}

func (st *state) parseResultPath(o *object) error {
	p, _, err := o.path("ResultPath", rootPath)
	if err != nil {
		return err
	}
	if p != nil && !p.isReference() {
		return o.err("ResultPath", "must be a reference path such as $, $.a.b, $['a'] or $.a[0], got %q", p.text)
	}
	st.resultPath = p
	return nil
}

func (st *state) parseTemplate(o *object, name string) (tnode, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, nil
	}
	return compileTemplate(v, st.where, name)
}

// parseCommon reads what Task, Parallel and Map share: transitions, paths,
// Parameters, ResultSelector, Retry and Catch.
func (st *state) parseCommon(o *object, parametersField string) error {
	if err := st.parseNextEnd(o); err != nil {
		return err
	}
	if err := st.parseInputOutput(o); err != nil {
		return err
	}
	if err := st.parseResultPath(o); err != nil {
		return err
	}
	var err error
	if parametersField != "" {
		if st.parameters, err = st.parseTemplate(o, parametersField); err != nil {
			return err
		}
	}
	if st.resultSelector, err = st.parseTemplate(o, "ResultSelector"); err != nil {
		return err
	}
	if st.retry, err = parseRetriers(o); err != nil {
		return err
	}
	st.catch, err = parseCatchers(o)
	for _, c := range st.catch {
		st.targets = append(st.targets, transition{field: c.field, to: c.next})
	}
	return err
}

func (st *state) parsePass(o *object) error {
	if err := st.parseNextEnd(o); err != nil {
		return err
	}
	if err := st.parseInputOutput(o); err != nil {
		return err
	}
	if err := st.parseResultPath(o); err != nil {
		return err
	}
	var err error
	if st.parameters, err = st.parseTemplate(o, "Parameters"); err != nil {
		return err
	}
	st.pass = &passSpec{}
	st.pass.result, st.pass.hasResult = o.get("Result")
	return nil
}

func (st *state) parseWait(o *object) error {
	if err := st.parseNextEnd(o); err != nil {
		return err
	}
	if err := st.parseInputOutput(o); err != nil {
		return err
	}
	w := &waitSpec{}
	var set []string
	if s, ok, err := o.integer("Seconds", 0, maxTimeoutSeconds); err != nil {
		return err
	} else if ok {
		w.seconds, set = s, append(set, "Seconds")
	}
	if ts, ok, err := o.str("Timestamp"); err != nil {
		return err
	} else if ok {
		t, valid := parseTimestamp(ts)
		if !valid {
			return o.err("Timestamp", "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got %q", ts)
		}
		w.timestamp, set = t, append(set, "Timestamp")
	}
	for _, f := range []struct {
		name string
		dst  **jsonPath
	}{{"SecondsPath", &w.secondsPath}, {"TimestampPath", &w.timestampPath}} {
		p, ok, err := o.path(f.name, nil)
		if err != nil {
			return err
		}
		if ok {
			if p == nil {
				return o.err(f.name, "must be a path, not null")
			}
			*f.dst, set = p, append(set, f.name)
		}
	}
	if len(set) != 1 {
		return o.err("", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath, got %d", len(set))
	}
	st.wait = w
	return nil
}

func (st *state) parseFail(o *object) error {
	f := &failSpec{}
	for _, p := range []struct {
		lit, path string
		litDst    *string
		exprDst   *expr
	}{{"Error", "ErrorPath", &f.errName, &f.errExpr}, {"Cause", "CausePath", &f.cause, &f.causeExpr}} {
		lit, hasLit, err := o.str(p.lit)
		if err != nil {
			return err
		}
		src, hasPath, err := o.str(p.path)
		if err != nil {
			return err
		}
		if hasLit && hasPath {
			return o.err(p.path, "%s and %s are mutually exclusive", p.lit, p.path)
		}
		*p.litDst = lit
		if hasPath {
			e, err := compileExpr(src)
			if err != nil {
				return o.err(p.path, "%v", err)
			}
			*p.exprDst = e
		}
	}
	st.fail = f
	return nil
}

func (st *state) parseParallel(o *object, names map[string]string) error {
	if err := st.parseCommon(o, "Parameters"); err != nil {
		return err
	}
	raw, ok, err := o.array("Branches")
	if err != nil {
		return err
	}
	if !ok || len(raw) == 0 {
		return o.err("Branches", "a Parallel state needs at least one branch")
	}
	st.parallel = &parallelSpec{}
	for i, b := range raw {
		field := fmt.Sprintf("Branches[%d]", i)
		sc, err := parseSubMachine(b, st.where+" "+field, names, false)
		if err != nil {
			return err
		}
		st.parallel.branches = append(st.parallel.branches, sc)
	}
	return nil
}

func (st *state) parseMap(o *object, names map[string]string) error {
	if err := st.parseCommon(o, ""); err != nil {
		return err
	}
	m := &mapSpec{}
	var err error
	if m.itemsPath, _, err = o.path("ItemsPath", rootPath); err != nil {
		return err
	}
	if m.itemsPath == nil {
		return o.err("ItemsPath", "must be a path, not null")
	}
	if o.has("ItemSelector") && o.has("Parameters") {
		return o.err("Parameters", "ItemSelector and Parameters (its former name) are mutually exclusive")
	}
	for _, name := range []string{"ItemSelector", "Parameters"} {
		if o.has(name) {
			if m.itemSelector, err = st.parseTemplate(o, name); err != nil {
				return err
			}
		}
	}
	if o.has("MaxConcurrency") && o.has("MaxConcurrencyPath") {
		return o.err("MaxConcurrencyPath", "MaxConcurrency and MaxConcurrencyPath are mutually exclusive")
	}
	if m.maxConcurrency, _, err = o.integer("MaxConcurrency", 0, maxTimeoutSeconds); err != nil {
		return err
	}
	if m.maxConcurrencyPath, _, err = o.path("MaxConcurrencyPath", nil); err != nil {
		return err
	}
	iter, hasIter := o.get("Iterator")
	proc, hasProc := o.get("ItemProcessor")
	switch {
	case hasIter && hasProc:
		return o.err("ItemProcessor", "Iterator and ItemProcessor (its new name) are mutually exclusive")
	case hasIter:
		m.processor, err = parseSubMachine(iter, st.where+" Iterator", names, false)
	case hasProc:
		m.processor, err = parseSubMachine(proc, st.where+" ItemProcessor", names, true)
	default:
		return o.err("ItemProcessor", "a Map state needs an ItemProcessor (or Iterator)")
	}
	st.mapState = m
	return err
}

// parseSubMachine parses a Parallel branch or a Map item processor.
func parseSubMachine(v any, where string, names map[string]string, processor bool) (*scope, error) {
	o, err := asObject(v, where, "")
	if err != nil {
		return nil, err
	}
	if _, _, err := o.str("Comment"); err != nil {
		return nil, err
	}
	if processor {
		if cfg, ok := o.get("ProcessorConfig"); ok {
			c, err := asObject(cfg, where, "ProcessorConfig")
			if err != nil {
				return nil, err
			}
			c.where = where + " ProcessorConfig"
			if mode, ok, err := c.str("Mode"); err != nil {
				return nil, err
			} else if ok && mode != "INLINE" {
				return nil, c.err("Mode", "only INLINE Map states are supported, got %q", mode)
			}
			if err := c.unknown("an inline ProcessorConfig"); err != nil {
				return nil, err
			}
		}
	}
	sc, err := parseScope(o, where+": ", names)
	if err != nil {
		return nil, err
	}
	return sc, o.unknown("a sub-machine")
}

// parseTimestamp accepts the RFC 3339 profile ASL requires (uppercase T and Z).
func parseTimestamp(s string) (time.Time, bool) {
	if !strings.Contains(s, "T") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
