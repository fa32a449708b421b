package samtemplate

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Alarm is an AWS::CloudWatch::Alarm on a single metric, with the fields
// of CloudWatch's PutMetricAlarm.
type Alarm struct {
	LogicalID string
	// AlarmName is what Ref returns; AlarmArn is
	// arn:<partition>:cloudwatch:<region>:<account>:alarm:<AlarmName>.
	AlarmName, AlarmArn string
	AlarmDescription    string
	Namespace           string
	MetricName          string
	Dimensions          []Dimension
	Statistic           string
	ExtendedStatistic   string
	// Period in seconds.
	Period            int32
	EvaluationPeriods int32
	// DatapointsToAlarm is 0 when unset (CloudWatch then uses
	// EvaluationPeriods).
	DatapointsToAlarm  int32
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string
	Unit               string
	// ActionsEnabled is true unless the template sets it false.
	ActionsEnabled                                   bool
	AlarmActions, OKActions, InsufficientDataActions []string
}

// Dimension is a metric dimension.
type Dimension struct {
	Name, Value string
}

func buildAlarm(e *evaluator, r *resource) (*Alarm, error) {
	props, err := e.props(r)
	if err != nil {
		return nil, err
	}
	path := "Resources." + r.id + ".Properties"
	if _, ok := props["Metrics"]; ok {
		return nil, errf(path+".Metrics", "metric math alarms are not supported by samtemplate")
	}
	p := &reader{m: props, path: path}
	a := &Alarm{
		LogicalID:               r.id,
		AlarmDescription:        p.str("AlarmDescription"),
		Namespace:               p.required("Namespace"),
		MetricName:              p.required("MetricName"),
		Statistic:               p.str("Statistic"),
		ExtendedStatistic:       p.str("ExtendedStatistic"),
		Period:                  int32(p.intOr("Period", 0)),
		EvaluationPeriods:       int32(p.intOr("EvaluationPeriods", 0)),
		DatapointsToAlarm:       int32(p.intOr("DatapointsToAlarm", 0)),
		Threshold:               p.float("Threshold"),
		ComparisonOperator:      p.required("ComparisonOperator"),
		TreatMissingData:        p.str("TreatMissingData"),
		Unit:                    p.str("Unit"),
		ActionsEnabled:          p.boolOr("ActionsEnabled", true),
		AlarmActions:            p.strList("AlarmActions"),
		OKActions:               p.strList("OKActions"),
		InsufficientDataActions: p.strList("InsufficientDataActions"),
	}
	dims := p.list("Dimensions")
	for _, d := range dims {
		a.Dimensions = append(a.Dimensions, Dimension{Name: d.required("Name"), Value: d.required("Value")})
	}
	if err := collect(append([]*reader{p}, dims...)...); err != nil {
		return nil, err
	}
	if a.Statistic == "" && a.ExtendedStatistic == "" {
		return nil, errf(path, "neither Statistic nor ExtendedStatistic is set")
	}
	if a.AlarmName, err = e.physicalName(r.id, path); err != nil {
		return nil, err
	}
	if a.AlarmArn, err = e.arn(r.id, path); err != nil {
		return nil, err
	}
	return a, nil
}

// PutMetricAlarmInput returns the CloudWatch request that creates the alarm.
func (a *Alarm) PutMetricAlarmInput() *cloudwatch.PutMetricAlarmInput {
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName:               aws.String(a.AlarmName),
		Namespace:               aws.String(a.Namespace),
		MetricName:              aws.String(a.MetricName),
		Period:                  aws.Int32(a.Period),
		EvaluationPeriods:       aws.Int32(a.EvaluationPeriods),
		Threshold:               aws.Float64(a.Threshold),
		ComparisonOperator:      cwtypes.ComparisonOperator(a.ComparisonOperator),
		ActionsEnabled:          aws.Bool(a.ActionsEnabled),
		AlarmActions:            a.AlarmActions,
		OKActions:               a.OKActions,
		InsufficientDataActions: a.InsufficientDataActions,
	}
	for _, d := range a.Dimensions {
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
	}
	optional := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	in.AlarmDescription = optional(a.AlarmDescription)
	in.ExtendedStatistic = optional(a.ExtendedStatistic)
	in.TreatMissingData = optional(a.TreatMissingData)
	in.Statistic = cwtypes.Statistic(a.Statistic)
	in.Unit = cwtypes.StandardUnit(a.Unit)
	if a.DatapointsToAlarm > 0 {
		in.DatapointsToAlarm = aws.Int32(a.DatapointsToAlarm)
	}
	return in
}
