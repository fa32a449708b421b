package cwsim

import (
	"fmt"
	"regexp"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

const maxMetricDataQueries = 500

var metricQueryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// validQueryPeriod reports whether p is a GetMetricData period: 1, 5, 10,
// 20, 30 or a multiple of 60.
func validQueryPeriod(p int64) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

// metricStat is a parsed MetricStat: the metric, its period and statistic.
type metricStat struct {
	metric Metric
	period int64
	stat   string
	unit   string
}

type dataQuery struct {
	id, label  string
	returnData bool
	stat       metricStat
}

func (s *Service) getMetricData(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	var r reader
	queryMaps, _ := r.structures(in, "MetricDataQueries")
	start, hasStart := r.time(in, "StartTime")
	end, hasEnd := r.time(in, "EndTime")
	scanBy, hasScanBy := r.str(in, "ScanBy")
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case len(queryMaps) == 0:
		return nil, missingParameter("MetricDataQueries")
	case len(queryMaps) > maxMetricDataQueries:
		return nil, invalidValue("The collection MetricDataQueries must not have a size greater than %d.", maxMetricDataQueries)
	case !hasStart:
		return nil, missingParameter("StartTime")
	case !hasEnd:
		return nil, missingParameter("EndTime")
	case !start.Before(end):
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	ascending := false
	if hasScanBy {
		switch scanBy {
		case "TimestampDescending":
		case "TimestampAscending":
			ascending = true
		default:
			return nil, invalidValue("The value %s for parameter ScanBy is invalid.", scanBy)
		}
	}
	queries := make([]dataQuery, 0, len(queryMaps))
	ids := map[string]bool{}
	for i, qm := range queryMaps {
		q, err := parseDataQuery(qm, fmt.Sprintf("MetricDataQueries.member.%d", i+1))
		if err != nil {
			return nil, err
		}
		if ids[q.id] {
			return nil, invalidValue("The value %s for parameter MetricDataQueries.member.%d.Id is not unique.", q.id, i+1)
		}
		ids[q.id] = true
		queries = append(queries, q)
	}

	results := cbor.List{}
	s.mu.Lock()
	for _, q := range queries {
		call.AddResource(q.stat.metric.Name)
		if !q.returnData {
			continue
		}
		times, values := s.queryLocked(q.stat, start, end, ascending)
		results = append(results, cbor.Map{
			"Id":         cbor.String(q.id),
			"Label":      cbor.String(q.label),
			"Timestamps": times,
			"Values":     values,
			"StatusCode": cbor.String("Complete"),
			"Messages":   cbor.List{},
		})
	}
	s.mu.Unlock()
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

func parseDataQuery(qm cbor.Map, where string) (dataQuery, *localaws.APIError) {
	var r reader
	id, hasID := r.str(qm, "Id")
	label, hasLabel := r.str(qm, "Label")
	returnData, hasReturnData := r.boolean(qm, "ReturnData")
	statMap, hasStat := r.structure(qm, "MetricStat")
	_, hasExpression := r.str(qm, "Expression")
	if r.err != nil {
		return dataQuery{}, r.err
	}
	switch {
	case !hasID:
		return dataQuery{}, missingParameter(where + ".Id")
	case !metricQueryID.MatchString(id) || len(id) > 255:
		return dataQuery{}, invalidValue("The value %s for parameter %s.Id is invalid: it must start with a lowercase letter and contain only letters, digits and underscores.", id, where)
	case hasExpression && hasStat:
		return dataQuery{}, invalidCombination("Exactly one of %[1]s.MetricStat and %[1]s.Expression must be specified.", where)
	case hasExpression:
		return dataQuery{}, invalidValue("Metric math (%s.Expression) is not supported by the local stack.", where)
	case !hasStat:
		return dataQuery{}, invalidCombination("Exactly one of %[1]s.MetricStat and %[1]s.Expression must be specified.", where)
	}
	st, err := parseMetricStat(statMap, where+".MetricStat")
	if err != nil {
		return dataQuery{}, err
	}
	q := dataQuery{id: id, label: label, returnData: true, stat: st}
	if !hasLabel {
		q.label = st.metric.Name
	}
	if hasReturnData {
		q.returnData = returnData
	}
	return q, nil
}

func parseMetricStat(m cbor.Map, where string) (metricStat, *localaws.APIError) {
	var r reader
	metricMap, hasMetric := r.structure(m, "Metric")
	period, hasPeriod := r.integer(m, "Period")
	stat, hasStat := r.str(m, "Stat")
	unit, hasUnit := r.str(m, "Unit")
	ns, hasNS := r.str(metricMap, "Namespace")
	name, hasName := r.str(metricMap, "MetricName")
	dimMaps, _ := r.structures(metricMap, "Dimensions")
	switch {
	case r.err != nil:
		return metricStat{}, r.err
	case !hasMetric:
		return metricStat{}, missingParameter(where + ".Metric")
	case !hasNS:
		return metricStat{}, missingParameter(where + ".Metric.Namespace")
	case !hasName:
		return metricStat{}, missingParameter(where + ".Metric.MetricName")
	case !hasPeriod:
		return metricStat{}, missingParameter(where + ".Period")
	case !validQueryPeriod(period):
		return metricStat{}, invalidValue("The parameter %s.Period must be 1, 5, 10, 20, 30, or a multiple of 60.", where)
	case !hasStat:
		return metricStat{}, missingParameter(where + ".Stat")
	case !validStatistic(stat):
		return metricStat{}, invalidValue("The value %s for parameter %s.Stat is invalid: the local stack computes Average, Sum, Minimum, Maximum and SampleCount.", stat, where)
	case hasUnit && !validUnit(unit):
		return metricStat{}, invalidValue("The value %s for parameter %s.Unit is invalid.", unit, where)
	}
	dims, err := parseDimensions(dimMaps, where+".Metric.Dimensions")
	if err != nil {
		return metricStat{}, err
	}
	return metricStat{metric: Metric{Namespace: ns, Name: name, Dimensions: dims}, period: period, stat: stat, unit: unit}, nil
}

// queryLocked computes the statistic of q for each period from start to
// end that has data. Periods start at StartTime rounded down to the minute
// (to the period when it is shorter). s.mu must be held.
func (s *Service) queryLocked(q metricStat, start, end time.Time, ascending bool) (cbor.List, cbor.List) {
	times, values := cbor.List{}, cbor.List{}
	sr := s.metrics[q.metric.key()]
	if sr == nil {
		return times, values
	}
	align := min(q.period, 60)
	first := start.Unix() - mod(start.Unix(), align)
	last := end.Unix()
	var starts []int64
	for t := first; t < last; t += q.period {
		starts = append(starts, t)
	}
	if !ascending {
		for i, j := 0, len(starts)-1; i < j; i, j = i+1, j-1 {
			starts[i], starts[j] = starts[j], starts[i]
		}
	}
	for _, t := range starts {
		st, ok := sr.aggregate(t, min(t+q.period, last), q.unit)
		if !ok {
			continue
		}
		times = append(times, cborTime(time.Unix(t, 0)))
		values = append(values, cbor.Float64(st.value(q.stat)))
	}
	return times, values
}

// mod is the non-negative remainder of a / b.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
