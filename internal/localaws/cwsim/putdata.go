package cwsim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Documented PutMetricData limits.
const (
	maxMetricData       = 1000
	maxDimensions       = 30
	maxValues           = 150
	maxNameLength       = 255
	pastTimestampLimit  = 14 * 24 * time.Hour
	futureTimestampSkew = 2 * time.Hour
)

// maxDatapointValue is 2^360, the magnitude CloudWatch accepts.
var maxDatapointValue = math.Ldexp(1, 360)

func invalidValue(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("InvalidParameterValue", format, args...)
}

func missingParameter(name string) *localaws.APIError {
	return localaws.BadRequest("MissingParameter", "The parameter %s is required.", name)
}

func invalidCombination(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("InvalidParameterCombination", format, args...)
}

func validUnit(u string) bool {
	return slices.Contains(types.StandardUnit("").Values(), types.StandardUnit(u))
}

// validName checks a namespace or metric name: 1 to 255 printable ASCII
// characters.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLength {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// point is one validated MetricData member, ready to store.
type point struct {
	metric Metric
	ts     int64
	unit   string
	values []stats
}

func (s *Service) putMetricData(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	var r reader
	ns, hasNS := r.str(in, "Namespace")
	data, _ := r.structures(in, "MetricData")
	_, hasEntities := r.list(in, "EntityMetricData")
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case hasEntities:
		return nil, invalidValue("EntityMetricData is not supported by the local stack; use MetricData.")
	case !hasNS:
		return nil, missingParameter("Namespace")
	case !validName(ns) || len(ns) >= 4 && ns[:4] == "AWS/":
		return nil, invalidValue("The value %s for parameter Namespace is invalid.", ns)
	case len(data) == 0:
		return nil, missingParameter("MetricData")
	case len(data) > maxMetricData:
		return nil, invalidValue("The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	now := s.opts.Now()
	points := make([]point, 0, len(data))
	for i, d := range data {
		p, err := parseDatum(ns, d, fmt.Sprintf("MetricData.member.%d", i+1), now)
		if err != nil {
			return nil, err
		}
		points = append(points, p)
	}

	s.mu.Lock()
	oldest := now.Add(-s.opts.Retention).Unix()
	seen := map[string]bool{}
	for _, p := range points {
		key := p.metric.key()
		sr := s.metrics[key]
		if sr == nil {
			sr = &series{metric: p.metric}
			s.metrics[key] = sr
		}
		for _, st := range p.values {
			sr.add(p.ts, p.unit, st)
		}
		sr.trim(oldest)
		if !seen[p.metric.Name] {
			seen[p.metric.Name] = true
			call.AddResource(p.metric.Name)
		}
	}
	s.mu.Unlock()
	return cbor.Map{}, nil
}

func parseDatum(ns string, d cbor.Map, where string, now time.Time) (point, *localaws.APIError) {
	var r reader
	name, hasName := r.str(d, "MetricName")
	dimMaps, _ := r.structures(d, "Dimensions")
	ts, hasTS := r.time(d, "Timestamp")
	value, hasValue := r.float(d, "Value")
	statSet, hasStatSet := r.structure(d, "StatisticValues")
	values, hasValues := r.floats(d, "Values")
	counts, hasCounts := r.floats(d, "Counts")
	unit, hasUnit := r.str(d, "Unit")
	resolution, hasResolution := r.integer(d, "StorageResolution")
	if r.err != nil {
		return point{}, r.err
	}
	if !hasName {
		return point{}, missingParameter(where + ".MetricName")
	}
	if !validName(name) {
		return point{}, invalidValue("The value %s for parameter %s.MetricName is invalid.", name, where)
	}
	dims, err := parseDimensions(dimMaps, where+".Dimensions")
	if err != nil {
		return point{}, err
	}
	if !hasTS {
		ts = now
	}
	switch {
	case ts.Before(now.Add(-pastTimestampLimit)):
		return point{}, invalidValue("The parameter %s.Timestamp must specify a time within the past two weeks.", where)
	case ts.After(now.Add(futureTimestampSkew)):
		return point{}, invalidValue("The parameter %s.Timestamp must specify a time no more than two hours in the future.", where)
	}
	if !hasResolution {
		resolution = 60
	}
	if resolution != 1 && resolution != 60 {
		return point{}, invalidValue("The value %d for parameter %s.StorageResolution is invalid.", resolution, where)
	}
	if !hasUnit {
		unit = string(types.StandardUnitNone)
	}
	if !validUnit(unit) {
		return point{}, invalidValue("The value %s for parameter %s.Unit is invalid.", unit, where)
	}
	p := point{metric: Metric{Namespace: ns, Name: name, Dimensions: dims}, unit: unit,
		ts: ts.Truncate(time.Duration(resolution) * time.Second).Unix()}

	switch {
	case hasValue && hasStatSet:
		return point{}, invalidCombination("The parameters %[1]s.Value and %[1]s.StatisticValues are mutually exclusive and you have specified both.", where)
	case hasValues && (hasValue || hasStatSet):
		return point{}, invalidCombination("The parameter %[1]s.Values cannot be specified with %[1]s.Value or %[1]s.StatisticValues.", where)
	case hasCounts && !hasValues:
		return point{}, invalidCombination("The parameter %[1]s.Counts requires %[1]s.Values.", where)
	case hasValue:
		if err := checkValue(value, where+".Value"); err != nil {
			return point{}, err
		}
		p.values = []stats{{count: 1, sum: value, min: value, max: value}}
	case hasStatSet:
		st, err := parseStatisticSet(statSet, where+".StatisticValues")
		if err != nil {
			return point{}, err
		}
		p.values = []stats{st}
	case hasValues:
		vs, err := parseValuesAndCounts(values, counts, hasCounts, where)
		if err != nil {
			return point{}, err
		}
		p.values = vs
	default:
		return point{}, localaws.BadRequest("MissingParameter",
			"At least one of the parameters %[1]s.Value, %[1]s.StatisticValues or %[1]s.Values must be specified.", where)
	}
	return p, nil
}

func parseDimensions(dimMaps []cbor.Map, where string) ([]Dimension, *localaws.APIError) {
	if len(dimMaps) > maxDimensions {
		return nil, invalidValue("The collection %s must not have a size greater than %d.", where, maxDimensions)
	}
	var r reader
	dims := make([]Dimension, 0, len(dimMaps))
	seen := map[string]bool{}
	for i, dm := range dimMaps {
		member := fmt.Sprintf("%s.member.%d", where, i+1)
		name, hasName := r.str(dm, "Name")
		value, hasValue := r.str(dm, "Value")
		switch {
		case r.err != nil:
			return nil, r.err
		case !hasName:
			return nil, missingParameter(member + ".Name")
		case !hasValue:
			return nil, missingParameter(member + ".Value")
		case !validName(name):
			return nil, invalidValue("The value %s for parameter %s.Name is invalid.", name, member)
		case value == "" || len(value) > maxNameLength:
			return nil, invalidValue("The value %s for parameter %s.Value is invalid.", value, member)
		case seen[name]:
			return nil, invalidValue("No Metric Dimension may be specified more than once: %s appears twice in %s.", name, where)
		}
		seen[name] = true
		dims = append(dims, Dimension{Name: name, Value: value})
	}
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	return dims, nil
}

func checkValue(v float64, param string) *localaws.APIError {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxDatapointValue {
		return invalidValue("The value %v for parameter %s is invalid.", v, param)
	}
	return nil
}

func parseStatisticSet(m cbor.Map, where string) (stats, *localaws.APIError) {
	var r reader
	var st stats
	var ok [4]bool
	st.count, ok[0] = r.float(m, "SampleCount")
	st.sum, ok[1] = r.float(m, "Sum")
	st.min, ok[2] = r.float(m, "Minimum")
	st.max, ok[3] = r.float(m, "Maximum")
	if r.err != nil {
		return stats{}, r.err
	}
	for i, name := range []string{"SampleCount", "Sum", "Minimum", "Maximum"} {
		if !ok[i] {
			return stats{}, missingParameter(where + "." + name)
		}
	}
	for _, v := range []struct {
		f    float64
		name string
	}{{st.count, "SampleCount"}, {st.sum, "Sum"}, {st.min, "Minimum"}, {st.max, "Maximum"}} {
		if err := checkValue(v.f, where+"."+v.name); err != nil {
			return stats{}, err
		}
	}
	if st.count <= 0 {
		return stats{}, invalidValue("The value %v for parameter %s.SampleCount is invalid.", st.count, where)
	}
	if st.min > st.max {
		return stats{}, invalidValue("The parameter %[1]s.Minimum must not be greater than %[1]s.Maximum.", where)
	}
	return st, nil
}

func parseValuesAndCounts(values, counts []float64, hasCounts bool, where string) ([]stats, *localaws.APIError) {
	if len(values) > maxValues {
		return nil, invalidValue("The collection %s.Values must not have a size greater than %d.", where, maxValues)
	}
	if hasCounts && len(counts) != len(values) {
		return nil, invalidValue("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", where)
	}
	out := make([]stats, 0, len(values))
	for i, v := range values {
		if err := checkValue(v, fmt.Sprintf("%s.Values.member.%d", where, i+1)); err != nil {
			return nil, err
		}
		c := 1.0
		if hasCounts {
			c = counts[i]
			if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
				return nil, invalidValue("The value %v for parameter %s.Counts.member.%d is invalid.", c, where, i+1)
			}
		}
		if c == 0 {
			continue
		}
		out = append(out, stats{count: c, sum: v * c, min: v, max: v})
	}
	return out, nil
}
