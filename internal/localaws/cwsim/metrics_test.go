package cwsim

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func statQuery(id, ns, name string, period int32, stat string, d ...types.Dimension) types.MetricDataQuery {
	return types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: d},
			Period: aws.Int32(period), Stat: aws.String(stat),
		},
	}
}

func TestPutAndGetMetricDataComputesStatisticsNewestFirst(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	start := t0.Add(-10 * time.Minute)
	// Minute 0: Value 2 and Values [4 x1, 6 x3]; minute 1: a statistic set;
	// minute 3: one value. Dimensions are given in different orders.
	_, err := f.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("Switchyard"),
		MetricData: []types.MetricDatum{
			{MetricName: aws.String("Lag"), Dimensions: dims("Cluster", "c1", "Node", "n1"), Timestamp: aws.Time(start.Add(5 * time.Second)), Value: aws.Float64(2)},
			{MetricName: aws.String("Lag"), Dimensions: dims("Node", "n1", "Cluster", "c1"), Timestamp: aws.Time(start.Add(20 * time.Second)),
				Values: []float64{4, 6}, Counts: []float64{1, 3}},
			{MetricName: aws.String("Lag"), Dimensions: dims("Cluster", "c1", "Node", "n1"), Timestamp: aws.Time(start.Add(70 * time.Second)),
				StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(40), Minimum: aws.Float64(1), Maximum: aws.Float64(19)}},
			{MetricName: aws.String("Lag"), Dimensions: dims("Cluster", "c1", "Node", "n1"), Timestamp: aws.Time(start.Add(3 * time.Minute)), Value: aws.Float64(7)},
			{MetricName: aws.String("Lag"), Dimensions: dims("Cluster", "c1", "Node", "n2"), Timestamp: aws.Time(start.Add(3 * time.Minute)), Value: aws.Float64(1000)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := dims("Node", "n1", "Cluster", "c1")
	out, err := f.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start), EndTime: aws.Time(t0),
		MetricDataQueries: []types.MetricDataQuery{
			statQuery("avg", "Switchyard", "Lag", 60, "Average", d...),
			statQuery("sum", "Switchyard", "Lag", 60, "Sum", d...),
			statQuery("min", "Switchyard", "Lag", 60, "Minimum", d...),
			statQuery("max", "Switchyard", "Lag", 60, "Maximum", d...),
			statQuery("n", "Switchyard", "Lag", 60, "SampleCount", d...),
			statQuery("all", "Switchyard", "Lag", 600, "Sum", d...),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantTimes := []time.Time{start.Add(3 * time.Minute), start.Add(time.Minute), start}
	want := map[string][]float64{
		"avg": {7, 10, 24.0 / 5}, // minute 0: 2+4+3*6 over 5 samples
		"sum": {7, 40, 24},
		"min": {7, 1, 2},
		"max": {7, 19, 6},
		"n":   {1, 4, 5},
	}
	if len(out.MetricDataResults) != 6 {
		t.Fatalf("%d results, want 6", len(out.MetricDataResults))
	}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		if r.StatusCode != types.StatusCodeComplete || aws.ToString(r.Label) != "Lag" {
			t.Errorf("%s: status %q label %q, want Complete and the metric name", id, r.StatusCode, aws.ToString(r.Label))
		}
		if id == "all" {
			if len(r.Values) != 1 || r.Values[0] != 7+40+24 || !r.Timestamps[0].Equal(start) {
				t.Errorf("10-minute sum = %v at %v, want [71] at %v", r.Values, r.Timestamps, start)
			}
			continue
		}
		if !slices.EqualFunc(r.Timestamps, wantTimes, time.Time.Equal) {
			t.Errorf("%s timestamps %v, want newest first %v", id, r.Timestamps, wantTimes)
		}
		if !slices.Equal(r.Values, want[id]) {
			t.Errorf("%s values %v, want %v", id, r.Values, want[id])
		}
	}
	if pts := f.svc.Datapoints(Metric{Namespace: "Switchyard", Name: "Lag", Dimensions: []Dimension{{"Node", "n2"}, {"Cluster", "c1"}}}); len(pts) != 1 || pts[0].Sum != 1000 {
		t.Errorf("Datapoints(n2) = %+v, want the single 1000 datapoint", pts)
	}
	if calls := f.server.Calls(); !slices.Contains(calls[0].Resources, "Lag") {
		t.Errorf("PutMetricData call resources %v do not name the metric", calls[0].Resources)
	}
}

func TestGetMetricDataHighResolutionAscendingAndOptions(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	for i := range 6 {
		f.put(t, "Switchyard", "Heartbeat", t0.Add(-60*time.Second+time.Duration(i*10)*time.Second), float64(i), 1)
	}
	f.put(t, "Switchyard", "Heartbeat", t0.Add(-30*time.Second), 100, 60) // standard resolution: stored at the minute
	q := statQuery("hb", "Switchyard", "Heartbeat", 10, "Maximum")
	q.Label = aws.String("beats")
	hidden := statQuery("hidden", "Switchyard", "Heartbeat", 10, "Sum")
	hidden.ReturnData = aws.Bool(false)
	out, err := f.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-60 * time.Second)), EndTime: aws.Time(t0),
		ScanBy:            types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{q, hidden},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricDataResults) != 1 {
		t.Fatalf("got %d results, want 1 (ReturnData false is omitted)", len(out.MetricDataResults))
	}
	r := out.MetricDataResults[0]
	if aws.ToString(r.Label) != "beats" {
		t.Errorf("label %q, want beats", aws.ToString(r.Label))
	}
	// The standard-resolution 100 landed on the minute, in the first bucket.
	if want := []float64{100, 1, 2, 3, 4, 5}; !slices.Equal(r.Values, want) {
		t.Errorf("values %v, want %v", r.Values, want)
	}
	if !r.Timestamps[0].Equal(t0.Add(-60*time.Second)) || !r.Timestamps[5].Equal(t0.Add(-10*time.Second)) {
		t.Errorf("timestamps %v, want ascending 10 s buckets", r.Timestamps)
	}
}

func TestGetMetricDataUnitFilter(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	_, err := f.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Lag"), Timestamp: aws.Time(t0.Add(-time.Minute)), Value: aws.Float64(5), Unit: types.StandardUnitBytes},
		{MetricName: aws.String("Lag"), Timestamp: aws.Time(t0.Add(-time.Minute)), Value: aws.Float64(3), Unit: types.StandardUnitSeconds},
	}})
	if err != nil {
		t.Fatal(err)
	}
	q := statQuery("b", "Switchyard", "Lag", 60, "Sum")
	q.MetricStat.Unit = types.StandardUnitBytes
	out, err := f.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0),
		MetricDataQueries: []types.MetricDataQuery{q, statQuery("any", "Switchyard", "Lag", 60, "Sum")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.MetricDataResults[0].Values; !slices.Equal(got, []float64{5}) {
		t.Errorf("Bytes-only sum %v, want [5]", got)
	}
	if got := out.MetricDataResults[1].Values; !slices.Equal(got, []float64{8}) {
		t.Errorf("all-units sum %v, want [8]", got)
	}
}

func TestPutMetricDataValidation(t *testing.T) {
	datum := func(mod func(*types.MetricDatum)) []types.MetricDatum {
		d := types.MetricDatum{MetricName: aws.String("Lag"), Value: aws.Float64(1)}
		mod(&d)
		return []types.MetricDatum{d}
	}
	many := make([]types.MetricDatum, 1001)
	for i := range many {
		many[i] = types.MetricDatum{MetricName: aws.String(fmt.Sprintf("m%d", i)), Value: aws.Float64(1)}
	}
	long := make([]float64, 151)
	cases := []struct {
		name string
		in   *cloudwatch.PutMetricDataInput
		code string
	}{
		{"reserved AWS namespace", &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: datum(func(*types.MetricDatum) {})}, "InvalidParameterValue"},
		{"no metric data", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard")}, "MissingParameter"},
		{"more than 1000 items", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: many}, "InvalidParameterValue"},
		{"no value at all", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Value = nil })}, "MissingParameter"},
		{"value and statistic set", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) {
			d.StatisticValues = &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}
		})}, "InvalidParameterCombination"},
		{"value and values", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Values = []float64{1} })}, "InvalidParameterCombination"},
		{"values and counts differ in length", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) {
			d.Value, d.Values, d.Counts = nil, []float64{1, 2}, []float64{1}
		})}, "InvalidParameterValue"},
		{"more than 150 values", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Value, d.Values = nil, long })}, "InvalidParameterValue"},
		{"NaN", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Value = aws.Float64(math.NaN()) })}, "InvalidParameterValue"},
		{"beyond 2^360", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Value = aws.Float64(math.Ldexp(1, 361)) })}, "InvalidParameterValue"},
		{"storage resolution 30", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.StorageResolution = aws.Int32(30) })}, "InvalidParameterValue"},
		{"three weeks old", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Timestamp = aws.Time(t0.Add(-21 * 24 * time.Hour)) })}, "InvalidParameterValue"},
		{"three hours ahead", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Timestamp = aws.Time(t0.Add(3 * time.Hour)) })}, "InvalidParameterValue"},
		{"unknown unit", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Unit = "Furlongs" })}, "InvalidParameterValue"},
		{"dimension twice", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Dimensions = dims("Node", "a", "Node", "b") })}, "InvalidParameterValue"},
		{"empty dimension value", &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: datum(func(d *types.MetricDatum) { d.Dimensions = dims("Node", "") })}, "InvalidParameterValue"},
	}
	f := newFixture(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.cw.PutMetricData(ctxT(t), tc.in)
			wantCode(t, err, tc.code)
		})
	}
	// A request with one bad datum stores nothing, not even the good ones.
	_, err := f.cw.PutMetricData(ctxT(t), &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Good"), Value: aws.Float64(1)},
		{MetricName: aws.String("Bad"), Value: aws.Float64(math.Inf(1))},
	}})
	wantCode(t, err, "InvalidParameterValue")
	if got := f.svc.Metrics(); len(got) != 0 {
		t.Errorf("after rejected requests the service holds metrics %+v, want none", got)
	}
}

func TestPutMetricDataAcceptsGzippedLargeRequests(t *testing.T) {
	f := newFixture(t, Options{})
	data := make([]types.MetricDatum, 1000)
	for i := range data {
		data[i] = types.MetricDatum{MetricName: aws.String("Probe"), Dimensions: dims("Node", fmt.Sprintf("node-%04d", i)),
			Timestamp: aws.Time(t0.Add(-time.Minute)), Value: aws.Float64(float64(i))}
	}
	if _, err := f.cw.PutMetricData(ctxT(t), &cloudwatch.PutMetricDataInput{Namespace: aws.String("Switchyard"), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData with 1000 items: %v", err)
	}
	if n := len(f.svc.Metrics()); n != 1000 {
		t.Errorf("stored %d metrics, want 1000", n)
	}
}

func TestGetMetricDataValidation(t *testing.T) {
	f := newFixture(t, Options{})
	badPeriod := statQuery("a", "Switchyard", "Lag", 45, "Average")
	expr := types.MetricDataQuery{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}
	cases := []struct {
		name       string
		start, end time.Time
		queries    []types.MetricDataQuery
		code       string
	}{
		{"period 45", t0.Add(-time.Hour), t0, []types.MetricDataQuery{badPeriod}, "InvalidParameterValue"},
		{"start after end", t0, t0.Add(-time.Hour), []types.MetricDataQuery{statQuery("a", "Switchyard", "Lag", 60, "Sum")}, "InvalidParameterValue"},
		{"metric math", t0.Add(-time.Hour), t0, []types.MetricDataQuery{expr}, "InvalidParameterValue"},
		{"id with capital", t0.Add(-time.Hour), t0, []types.MetricDataQuery{statQuery("Abc", "Switchyard", "Lag", 60, "Sum")}, "InvalidParameterValue"},
		{"duplicate ids", t0.Add(-time.Hour), t0, []types.MetricDataQuery{statQuery("a", "Switchyard", "Lag", 60, "Sum"), statQuery("a", "Switchyard", "Lag", 60, "Sum")}, "InvalidParameterValue"},
		{"percentile", t0.Add(-time.Hour), t0, []types.MetricDataQuery{statQuery("a", "Switchyard", "Lag", 60, "p99")}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.cw.GetMetricData(ctxT(t), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(tc.start), EndTime: aws.Time(tc.end), MetricDataQueries: tc.queries})
			wantCode(t, err, tc.code)
		})
	}
}
