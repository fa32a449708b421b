package probe

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// fakeCloudWatch records PutMetricData calls and checks them the way
// CloudWatch does (InvalidParameterValue / MissingParameter, 400). Told
// to, it fails calls with throttling or server errors, or blocks them.
// Test-only.
type fakeCloudWatch struct {
	mu       sync.Mutex
	calls    []*cloudwatch.PutMetricDataInput // accepted calls only
	attempts int
	failNext []error       // errors for the next calls, in order
	block    chan struct{} // when set, calls wait for it to close (or ctx)
}

func throttling() error {
	return &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded", Fault: smithy.FaultClient}
}

func internalServiceError() error {
	return &smithy.GenericAPIError{Code: "InternalServiceError", Message: "Internal service error", Fault: smithy.FaultServer}
}

func invalidParameter(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func (f *fakeCloudWatch) failWith(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = append(f.failNext, errs...)
}

func (f *fakeCloudWatch) PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, fmt.Errorf("operation error CloudWatch: PutMetricData: %w", ctx.Err())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if len(f.failNext) > 0 {
		err := f.failNext[0]
		f.failNext = f.failNext[1:]
		return nil, err
	}
	if err := validatePut(in); err != nil {
		return nil, err
	}
	f.calls = append(f.calls, in)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

// validatePut applies the documented PutMetricData constraints.
func validatePut(in *cloudwatch.PutMetricDataInput) error {
	ns := aws.ToString(in.Namespace)
	if ns == "" {
		return &smithy.GenericAPIError{Code: "MissingParameter", Message: "The parameter Namespace is required.", Fault: smithy.FaultClient}
	}
	if strings.HasPrefix(ns, "AWS/") {
		return invalidParameter("The value AWS/ for parameter Namespace is invalid.")
	}
	if len(in.MetricData) == 0 || len(in.MetricData) > 1000 {
		return invalidParameter("The collection MetricData must not be empty and must not exceed 1000 items, got %d.", len(in.MetricData))
	}
	for i, d := range in.MetricData {
		if aws.ToString(d.MetricName) == "" {
			return invalidParameter("MetricData.member.%d.MetricName is required.", i+1)
		}
		if len(d.Dimensions) > 30 {
			return invalidParameter("MetricData.member.%d.Dimensions exceeds 30.", i+1)
		}
		if r := aws.ToInt32(d.StorageResolution); d.StorageResolution != nil && r != 1 && r != 60 {
			return invalidParameter("StorageResolution must be 1 or 60, got %d.", r)
		}
		if len(d.Values) > 150 {
			return invalidParameter("MetricData.member.%d.Values has more than 150 values.", i+1)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return invalidParameter("The parameters MetricData.member.%d.Values and MetricData.member.%d.Counts must be of the same size.", i+1, i+1)
		}
		for _, v := range append(append([]float64{}, d.Values...), d.Counts...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return invalidParameter("MetricData.member.%d contains a non-finite value.", i+1)
			}
		}
	}
	return nil
}

// datums returns every accepted datum.
func (f *fakeCloudWatch) datums() []types.MetricDatum {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []types.MetricDatum
	for _, c := range f.calls {
		out = append(out, c.MetricData...)
	}
	return out
}

func (f *fakeCloudWatch) callCount() (accepted, attempts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls), f.attempts
}

// The probe uses only PutMetricData; the rest of CloudWatchAPI answers as
// an unused client would, with an explicit error rather than a panic.
func (f *fakeCloudWatch) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, fmt.Errorf("fakeCloudWatch: GetMetricData not used by the probe")
}

func (f *fakeCloudWatch) PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	return nil, fmt.Errorf("fakeCloudWatch: PutMetricAlarm not used by the probe")
}

func (f *fakeCloudWatch) DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return nil, fmt.Errorf("fakeCloudWatch: DescribeAlarms not used by the probe")
}

func (f *fakeCloudWatch) SetAlarmState(context.Context, *cloudwatch.SetAlarmStateInput, ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	return nil, fmt.Errorf("fakeCloudWatch: SetAlarmState not used by the probe")
}

// point is one flattened value of a datum, for assertions.
type point struct {
	metric, dims string
	value, count float64
	at           int64 // unix seconds
}

func points(data []types.MetricDatum) []point {
	var out []point
	for _, d := range data {
		for i, v := range d.Values {
			out = append(out, point{aws.ToString(d.MetricName), dimsKey(d.Dimensions), v, d.Counts[i], aws.ToTime(d.Timestamp).Unix()})
		}
	}
	return out
}

// total sums the counts of the matching points.
func total(ps []point, metric, dims string, value float64) float64 {
	var n float64
	for _, p := range ps {
		if p.metric == metric && p.dims == dims && p.value == value {
			n += p.count
		}
	}
	return n
}

func putInput(ns string, data []types.MetricDatum) *cloudwatch.PutMetricDataInput {
	return &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}
}
