package asl

import (
	"encoding/json"
	"math"
	"strconv"
)

// unsupportedFields explains fields that are valid ASL somewhere but that
// this interpreter deliberately does not implement.
var unsupportedFields = map[string]string{
	"HeartbeatSeconds":               "heartbeats need activity or callback tasks, which are not supported",
	"HeartbeatSecondsPath":           "heartbeats need activity or callback tasks, which are not supported",
	"Credentials":                    "cross-account task credentials are not supported",
	"Assign":                         "workflow variables are not supported",
	"Output":                         "JSONata fields are not supported",
	"Arguments":                      "JSONata fields are not supported",
	"Items":                          "JSONata fields are not supported",
	"ItemReader":                     "only inline Map states are supported",
	"ItemBatcher":                    "only inline Map states are supported",
	"ResultWriter":                   "only inline Map states are supported",
	"ToleratedFailureCount":          "only inline Map states are supported",
	"ToleratedFailureCountPath":      "only inline Map states are supported",
	"ToleratedFailurePercentage":     "only inline Map states are supported",
	"ToleratedFailurePercentagePath": "only inline Map states are supported",
	"Label":                          "only inline Map states are supported",
	"Condition":                      "JSONata Choice rules are not supported",
}

// object reads the fields of one JSON object of a definition strictly: every
// field must be consumed by the parser, or unknown reports it.
type object struct {
	where  string
	fields map[string]any
	used   map[string]bool
}

func asObject(v any, where, field string) (*object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, defErr(where, field, "must be a JSON object, got %s", typeName(v))
	}
	return &object{where: where, fields: m, used: map[string]bool{}}, nil
}

func (o *object) err(field, format string, args ...any) error {
	return defErr(o.where, field, format, args...)
}

func (o *object) has(name string) bool {
	_, ok := o.fields[name]
	return ok
}

// get returns a field's value and marks it as understood.
func (o *object) get(name string) (any, bool) {
	v, ok := o.fields[name]
	if ok {
		o.used[name] = true
	}
	return v, ok
}

func (o *object) str(name string) (string, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, o.err(name, "must be a string, got %s", typeName(v))
	}
	return s, true, nil
}

func (o *object) reqStr(name string) (string, error) {
	s, ok, err := o.str(name)
	if err == nil && !ok {
		err = o.err(name, "is required")
	}
	return s, err
}

func (o *object) boolean(name string) (bool, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return false, false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, true, o.err(name, "must be a boolean, got %s", typeName(v))
	}
	return b, true, nil
}

func (o *object) integer(name string, lo, hi int64) (int64, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, o.err(name, "must be an integer, got %s", typeName(v))
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, true, o.err(name, "must be an integer, got %s", n)
	}
	if i < lo || i > hi {
		return 0, true, o.err(name, "must be between %d and %d, got %d", lo, hi, i)
	}
	return i, true, nil
}

func (o *object) float(name string, lo, hi float64) (float64, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, o.err(name, "must be a number, got %s", typeName(v))
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || f < lo || f > hi {
		return 0, true, o.err(name, "must be a number between %g and %g, got %s", lo, hi, n)
	}
	return f, true, nil
}

func (o *object) array(name string) ([]any, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, false, nil
	}
	a, isArr := v.([]any)
	if !isArr {
		return nil, true, o.err(name, "must be an array, got %s", typeName(v))
	}
	return a, true, nil
}

// path reads a path field. A JSON null yields (nil, true, nil); an absent
// field yields (def, false, nil).
func (o *object) path(name string, def *jsonPath) (*jsonPath, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return def, false, nil
	}
	if v == nil {
		return nil, true, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return nil, true, o.err(name, "must be a path string or null, got %s", typeName(v))
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, true, o.err(name, "%v", err)
	}
	return p, true, nil
}

// unknown reports the first field (in lexical order) no parser consumed.
func (o *object) unknown(kind string) error {
	for _, k := range sortedKeys(o.fields) {
		if o.used[k] {
			continue
		}
		if why, ok := unsupportedFields[k]; ok {
			return o.err(k, "is not supported: %s", why)
		}
		return o.err(k, "is not a valid field of %s", kind)
	}
	return nil
}
