package cwsim

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/switchyard/switchyard/internal/localaws"
)

// Documented PutMetricAlarm and DescribeAlarms limits.
const (
	maxAlarmNames          = 100
	maxActions             = 5
	maxAlarmDescription    = 1024
	maxEvaluationShortSecs = 86400  // Period < 1 h: Period * EvaluationPeriods <= one day
	maxEvaluationSecs      = 604800 // otherwise seven days
	defaultMaxRecords      = 50
	maxMaxRecords          = 100
)

func validationError(format string, args ...any) *localaws.APIError {
	return localaws.BadRequest("ValidationError", format, args...)
}

func isJSON(s string) bool { return json.Valid([]byte(s)) }

// validAlarmPeriod reports whether p is an alarm period: 10, 20, 30 (high
// resolution) or a multiple of 60.
func validAlarmPeriod(p int64) bool {
	return p == 10 || p == 20 || p == 30 || (p > 0 && p%60 == 0)
}

// parseAlarm reads and validates a PutMetricAlarm input for a single-metric,
// static-threshold alarm, with CloudWatch's ValidationError messages.
func parseAlarm(in cbor.Map) (*alarm, *localaws.APIError) {
	var r reader
	a := &alarm{actionsEnabled: true}
	name, hasName := r.str(in, "AlarmName")
	a.description, _ = r.str(in, "AlarmDescription")
	enabled, hasEnabled := r.boolean(in, "ActionsEnabled")
	a.okActions, _ = r.strings(in, "OKActions")
	a.alarmActions, _ = r.strings(in, "AlarmActions")
	a.insufficientActions, _ = r.strings(in, "InsufficientDataActions")
	ns, hasNS := r.str(in, "Namespace")
	metricName, hasMetricName := r.str(in, "MetricName")
	dimMaps, _ := r.structures(in, "Dimensions")
	statistic, hasStatistic := r.str(in, "Statistic")
	_, hasExtended := r.str(in, "ExtendedStatistic")
	period, hasPeriod := r.integer(in, "Period")
	unit, hasUnit := r.str(in, "Unit")
	evalPeriods, hasEvalPeriods := r.integer(in, "EvaluationPeriods")
	toAlarm, hasToAlarm := r.integer(in, "DatapointsToAlarm")
	threshold, hasThreshold := r.float(in, "Threshold")
	comparison, hasComparison := r.str(in, "ComparisonOperator")
	treat, hasTreat := r.str(in, "TreatMissingData")
	_, hasMetrics := r.list(in, "Metrics")
	_, hasThresholdMetric := r.str(in, "ThresholdMetricId")
	_, hasCriteria := r.get(in, "EvaluationCriteria")
	if r.err != nil {
		return nil, r.err
	}
	if hasEnabled {
		a.actionsEnabled = enabled
	}
	switch {
	case !hasName:
		return nil, missingParameter("AlarmName")
	case name == "" || len(name) > 255 || strings.ContainsFunc(name, isControl):
		return nil, validationError("1 validation error detected: Value '%s' at 'alarmName' failed to satisfy constraint: Member must have length between 1 and 255 and contain no control characters", name)
	case len(a.description) > maxAlarmDescription:
		return nil, validationError("1 validation error detected: Value at 'alarmDescription' failed to satisfy constraint: Member must have length less than or equal to %d", maxAlarmDescription)
	case hasMetrics && (hasMetricName || hasStatistic || hasPeriod):
		return nil, validationError("Statistic, MetricName and Period should not be set if list of Metrics is set.")
	case hasMetrics || hasThresholdMetric || hasCriteria:
		return nil, validationError("Metric math, anomaly detection and PromQL alarms are not supported by the local stack; use a single metric with a static threshold.")
	case !hasMetricName:
		return nil, validationError("MetricName must be specified for an alarm that is not based on a list of Metrics.")
	case !hasNS:
		return nil, validationError("Namespace must be specified for an alarm based on MetricName.")
	case hasExtended && hasStatistic:
		return nil, validationError("Only one of Statistic and ExtendedStatistic may be specified.")
	case hasExtended:
		return nil, validationError("ExtendedStatistic (percentiles) is not supported by the local stack.")
	case !hasStatistic:
		return nil, validationError("Either Statistic or ExtendedStatistic must be specified.")
	case !validStatistic(statistic):
		return nil, validationError("1 validation error detected: Value '%s' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, Average]", statistic)
	case !hasPeriod:
		return nil, validationError("Period must be specified for an alarm based on MetricName.")
	case !validAlarmPeriod(period):
		return nil, validationError("Period must be 10, 20, 30 or a multiple of 60")
	case hasUnit && !validUnit(unit):
		return nil, validationError("1 validation error detected: Value '%s' at 'unit' failed to satisfy constraint: Member must satisfy enum value set", unit)
	case !hasEvalPeriods:
		return nil, validationError("1 validation error detected: Value null at 'evaluationPeriods' failed to satisfy constraint: Member must not be null")
	case evalPeriods < 1:
		return nil, validationError("1 validation error detected: Value '%d' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1", evalPeriods)
	case hasToAlarm && toAlarm < 1:
		return nil, validationError("1 validation error detected: Value '%d' at 'datapointsToAlarm' failed to satisfy constraint: Member must have value greater than or equal to 1", toAlarm)
	case hasToAlarm && toAlarm > evalPeriods:
		return nil, validationError("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
	case period < 3600 && period*evalPeriods > maxEvaluationShortSecs:
		return nil, validationError("The evaluation range of an alarm with a period under one hour (Period * EvaluationPeriods) must not exceed one day (86400 seconds).")
	case period*evalPeriods > maxEvaluationSecs:
		return nil, validationError("The evaluation range of an alarm (Period * EvaluationPeriods) must not exceed seven days (604800 seconds).")
	case !hasThreshold:
		return nil, validationError("Threshold must be specified for an alarm based on a static threshold.")
	case !hasComparison:
		return nil, validationError("1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null")
	case comparisons[comparison] == nil:
		return nil, validationError("ComparisonOperator %s is not valid for a static-threshold alarm: use GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold.", comparison)
	case hasTreat && treat != treatMissing && treat != treatNotBreaching && treat != treatBreaching && treat != treatIgnore:
		return nil, validationError("TreatMissingData must be one of breaching, notBreaching, ignore or missing, got %s", treat)
	}
	for _, l := range []struct {
		param   string
		actions []string
	}{{"OKActions", a.okActions}, {"AlarmActions", a.alarmActions}, {"InsufficientDataActions", a.insufficientActions}} {
		if len(l.actions) > maxActions {
			return nil, validationError("The collection %s must not have a size greater than %d.", l.param, maxActions)
		}
	}
	dims, err := parseDimensions(dimMaps, "Dimensions")
	if err != nil {
		return nil, err
	}
	a.name, a.statistic, a.period, a.unit = name, statistic, period, unit
	a.metric = Metric{Namespace: ns, Name: metricName, Dimensions: dims}
	a.evaluationPeriods, a.datapointsToAlarm = int(evalPeriods), int(toAlarm)
	a.threshold, a.comparison, a.treatMissingData = threshold, comparison, treat
	return a, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *Service) describeAlarms(call *localaws.Call, in cbor.Map) (cbor.Map, *localaws.APIError) {
	var r reader
	names, hasNames := r.strings(in, "AlarmNames")
	prefix, hasPrefix := r.str(in, "AlarmNamePrefix")
	stateValue, hasState := r.str(in, "StateValue")
	actionPrefix, hasActionPrefix := r.str(in, "ActionPrefix")
	alarmTypes, hasTypes := r.strings(in, "AlarmTypes")
	maxRecords, hasMax := r.integer(in, "MaxRecords")
	token, hasToken := r.str(in, "NextToken")
	switch {
	case r.err != nil:
		return nil, r.err
	case hasNames && hasPrefix:
		return nil, invalidCombination("AlarmNames and AlarmNamePrefix cannot be specified together.")
	case len(names) > maxAlarmNames:
		return nil, validationError("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	case hasState && stateValue != StateOK && stateValue != StateAlarm && stateValue != StateInsufficientData:
		return nil, validationError("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", stateValue)
	case hasMax && (maxRecords < 1 || maxRecords > maxMaxRecords):
		return nil, validationError("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and %d", maxRecords, maxMaxRecords)
	}
	if !hasMax {
		maxRecords = defaultMaxRecords
	}
	after := ""
	if hasToken {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) == 0 {
			return nil, localaws.BadRequest("InvalidNextToken", "The service couldn't process the NextToken %q.", token)
		}
		after = string(raw)
	}
	wantMetricAlarms := !hasTypes
	for _, t := range alarmTypes {
		wantMetricAlarms = wantMetricAlarms || t == "MetricAlarm"
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	var matched []*alarm
	for _, a := range s.alarms {
		switch {
		case !wantMetricAlarms:
		case hasNames && !wanted[a.name]:
		case hasPrefix && !strings.HasPrefix(a.name, prefix):
		case hasState && a.state.Value != stateValue:
		case hasActionPrefix && !a.hasActionPrefix(actionPrefix):
		case after != "" && a.name <= after:
		default:
			matched = append(matched, a)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].name < matched[j].name })
	out := cbor.Map{"MetricAlarms": cbor.List{}, "CompositeAlarms": cbor.List{}}
	if int64(len(matched)) > maxRecords {
		matched = matched[:maxRecords]
		out["NextToken"] = cbor.String(base64.RawURLEncoding.EncodeToString([]byte(matched[len(matched)-1].name)))
	}
	list := make(cbor.List, 0, len(matched))
	for _, a := range matched {
		list = append(list, a.describe())
		call.AddResource(a.name)
	}
	out["MetricAlarms"] = list
	return out, nil
}

func (a *alarm) hasActionPrefix(prefix string) bool {
	for _, l := range [][]string{a.okActions, a.alarmActions, a.insufficientActions} {
		for _, act := range l {
			if strings.HasPrefix(act, prefix) {
				return true
			}
		}
	}
	return false
}

// describe renders a as a MetricAlarm structure.
func (a *alarm) describe() cbor.Map {
	dims := cbor.List{}
	for _, d := range a.metric.Dimensions {
		dims = append(dims, cbor.Map{"Name": cbor.String(d.Name), "Value": cbor.String(d.Value)})
	}
	m := cbor.Map{
		"AlarmName":                          cbor.String(a.name),
		"AlarmArn":                           cbor.String(a.arn),
		"AlarmConfigurationUpdatedTimestamp": cborTime(a.configUpdated),
		"ActionsEnabled":                     cbor.Bool(a.actionsEnabled),
		"OKActions":                          cborStrings(a.okActions),
		"AlarmActions":                       cborStrings(a.alarmActions),
		"InsufficientDataActions":            cborStrings(a.insufficientActions),
		"StateValue":                         cbor.String(a.state.Value),
		"StateReason":                        cbor.String(a.state.Reason),
		"StateUpdatedTimestamp":              cborTime(a.state.Updated),
		"StateTransitionedTimestamp":         cborTime(a.state.Updated),
		"MetricName":                         cbor.String(a.metric.Name),
		"Namespace":                          cbor.String(a.metric.Namespace),
		"Statistic":                          cbor.String(a.statistic),
		"Dimensions":                         dims,
		"Period":                             cborInt(a.period),
		"EvaluationPeriods":                  cborInt(int64(a.evaluationPeriods)),
		"Threshold":                          cbor.Float64(a.threshold),
		"ComparisonOperator":                 cbor.String(a.comparison),
	}
	if a.description != "" {
		m["AlarmDescription"] = cbor.String(a.description)
	}
	if a.state.ReasonData != "" {
		m["StateReasonData"] = cbor.String(a.state.ReasonData)
	}
	if a.unit != "" {
		m["Unit"] = cbor.String(a.unit)
	}
	if a.datapointsToAlarm > 0 {
		m["DatapointsToAlarm"] = cborInt(int64(a.datapointsToAlarm))
	}
	if a.treatMissingData != "" {
		m["TreatMissingData"] = cbor.String(a.treatMissingData)
	}
	return m
}
