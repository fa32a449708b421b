package cwsim

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
)

const testRegion = "eu-west-1"

// fakeClock is a settable clock for the service.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fixture is a CloudWatch service behind a localaws.Server on a loopback
// httptest server, with a real SDK client.
type fixture struct {
	svc     *Service
	server  *localaws.Server
	cw      *cloudwatch.Client
	clock   *fakeClock
	headers *headerLog
	url     string
}

// headerLog keeps the response headers of every call.
type headerLog struct {
	mu  sync.Mutex
	all []http.Header
}

func (l *headerLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		l.mu.Lock()
		l.all = append(l.all, w.Header().Clone())
		l.mu.Unlock()
	})
}

func (l *headerLog) list() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.all...)
}

// t0 is a fixed start time aligned to a minute.
var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	clock := &fakeClock{t: t0}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	svc := New(opts)
	server := localaws.NewServer()
	server.Register(svc)
	headers := &headerLog{}
	hs := httptest.NewServer(headers.wrap(server))
	t.Cleanup(hs.Close)
	t.Cleanup(svc.Stop)
	cfg, err := config.LoadDefaultConfig(context.Background(), awsall.LocalConfig(hs.URL, testRegion, "AKIDCWSIMTEST")...)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	cw := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.RetryMaxAttempts = 1 })
	return &fixture{svc: svc, server: server, cw: cw, clock: clock, headers: headers, url: hs.URL}
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err is an API error with the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want error %s", code)
	}
	if got := awsapi.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func dims(kv ...string) []types.Dimension {
	var out []types.Dimension
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// put publishes one value at ts with the given resolution.
func (f *fixture) put(t *testing.T, ns, name string, ts time.Time, v float64, resolution int32, d ...types.Dimension) {
	t.Helper()
	_, err := f.cw.PutMetricData(ctxT(t), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(ns),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String(name), Dimensions: d, Timestamp: aws.Time(ts), Value: aws.Float64(v),
			StorageResolution: aws.Int32(resolution),
		}},
	})
	if err != nil {
		t.Fatalf("PutMetricData %s/%s at %s: %v", ns, name, ts, err)
	}
}

// describe returns the single alarm of that name.
func (f *fixture) describe(t *testing.T, name string) types.MetricAlarm {
	t.Helper()
	out, err := f.cw.DescribeAlarms(ctxT(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		t.Fatalf("DescribeAlarms(%s): %v", name, err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms(%s) returned %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

func (f *fixture) putAlarm(t *testing.T, in *cloudwatch.PutMetricAlarmInput) {
	t.Helper()
	if _, err := f.cw.PutMetricAlarm(ctxT(t), in); err != nil {
		t.Fatalf("PutMetricAlarm(%s): %v", aws.ToString(in.AlarmName), err)
	}
}

// recordingPublisher is an EventPublisher that keeps events.
type recordingPublisher struct {
	mu     sync.Mutex
	events [][]byte
	fail   error
}

func (p *recordingPublisher) Publish(_ context.Context, ev []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
	return p.fail
}

func (p *recordingPublisher) got() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.events...)
}

var errPublish = errors.New("bus unavailable")
