package asl

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Retrier limits as Step Functions validates them.
const (
	maxRetryInterval = 99999999
	maxRetryAttempts = 99999999
	maxRetryDelay    = 31622401
)

type retrier struct {
	errorEquals []string
	interval    float64 // seconds before the first retry
	maxAttempts int64
	backoff     float64
	maxDelay    float64 // cap on one interval in seconds; 0 means none
	fullJitter  bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  *jsonPath // nil: JSON null (the error output is discarded)
	field       string    // "Catch[i].Next", for messages
}

// delay returns how long to wait before retry number n (0 for the first
// retry): IntervalSeconds × BackoffRate^n, capped at MaxDelaySeconds, and with
// JitterStrategy FULL a uniformly random share of that (rnd returns [0,1)).
func (r *retrier) delay(n int64, rnd func() float64) time.Duration {
	d := r.interval * math.Pow(r.backoff, float64(n))
	if r.maxDelay > 0 && d > r.maxDelay {
		d = r.maxDelay
	}
	if d > maxRetryDelay || math.IsInf(d, 0) || math.IsNaN(d) {
		d = maxRetryDelay
	}
	if r.fullJitter {
		d *= rnd()
	}
	return time.Duration(d * float64(time.Second))
}

func parseErrorEquals(o *object) ([]string, error) {
	raw, ok, err := o.array("ErrorEquals")
	if err != nil {
		return nil, err
	}
	if !ok || len(raw) == 0 {
		return nil, o.err("ErrorEquals", "needs at least one error name")
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		name, isStr := v.(string)
		if !isStr || name == "" {
			return nil, o.err("ErrorEquals", "error names must be non-empty strings, got %s", jsonText(v))
		}
		if strings.HasPrefix(name, "States.") && !knownStatesErrors[name] {
			return nil, o.err("ErrorEquals", "%q is not a predefined error name", name)
		}
		out = append(out, name)
	}
	for _, name := range out {
		if name == StatesALL && len(out) > 1 {
			return nil, o.err("ErrorEquals", "States.ALL must appear alone")
		}
	}
	return out, nil
}

// elements reads an optional array field of objects (Retry or Catch).
func elements(parent *object, field string) ([]*object, error) {
	raw, _, err := parent.array(field)
	if err != nil {
		return nil, err
	}
	out := make([]*object, len(raw))
	for i, v := range raw {
		name := fmt.Sprintf("%s[%d]", field, i)
		o, err := asObject(v, parent.where, name)
		if err != nil {
			return nil, err
		}
		o.where = parent.where + " " + name
		if _, _, err := o.str("Comment"); err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

func parseRetriers(parent *object) ([]retrier, error) {
	objs, err := elements(parent, "Retry")
	if err != nil {
		return nil, err
	}
	out := make([]retrier, len(objs))
	for i, o := range objs {
		r := retrier{interval: 1, maxAttempts: 3, backoff: 2}
		if r.errorEquals, err = parseErrorEquals(o); err != nil {
			return nil, err
		}
		if r.errorEquals[0] == StatesALL && i != len(objs)-1 {
			return nil, o.err("ErrorEquals", "a retrier with States.ALL must be the last one")
		}
		if v, ok, err := o.integer("IntervalSeconds", 1, maxRetryInterval); err != nil {
			return nil, err
		} else if ok {
			r.interval = float64(v)
		}
		if v, ok, err := o.integer("MaxAttempts", 0, maxRetryAttempts); err != nil {
			return nil, err
		} else if ok {
			r.maxAttempts = v
		}
		if v, ok, err := o.float("BackoffRate", 1, math.MaxFloat64); err != nil {
			return nil, err
		} else if ok {
			r.backoff = v
		}
		if v, ok, err := o.integer("MaxDelaySeconds", 1, maxRetryDelay); err != nil {
			return nil, err
		} else if ok {
			r.maxDelay = float64(v)
		}
		if js, ok, err := o.str("JitterStrategy"); err != nil {
			return nil, err
		} else if ok && js != "FULL" && js != "NONE" {
			return nil, o.err("JitterStrategy", "must be FULL or NONE, got %q", js)
		} else {
			r.fullJitter = js == "FULL"
		}
		if err := o.unknown("a Retrier"); err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func parseCatchers(parent *object) ([]catcher, error) {
	objs, err := elements(parent, "Catch")
	if err != nil {
		return nil, err
	}
	out := make([]catcher, len(objs))
	for i, o := range objs {
		c := catcher{field: fmt.Sprintf("Catch[%d].Next", i)}
		if c.errorEquals, err = parseErrorEquals(o); err != nil {
			return nil, err
		}
		if c.errorEquals[0] == StatesALL && i != len(objs)-1 {
			return nil, o.err("ErrorEquals", "a catcher with States.ALL must be the last one")
		}
		if c.next, err = o.reqStr("Next"); err != nil {
			return nil, err
		}
		if c.resultPath, _, err = o.path("ResultPath", rootPath); err != nil {
			return nil, err
		}
		if c.resultPath != nil && !c.resultPath.isReference() {
			return nil, o.err("ResultPath", "must be a reference path such as $, $.a.b, $['a'] or $.a[0], got %q", c.resultPath.text)
		}
		if err := o.unknown("a Catcher"); err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}
