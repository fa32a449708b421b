package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"

	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/store"
)

// pause puts maintenance mode in the record (the table derived from the
// cluster name), status shows it first, history records it, and resume
// takes it out; bad input changes nothing.
func TestPauseAndResume(t *testing.T) {
	em := newEmulator(t)
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "test", "node1"); err != nil { // table switchyard-test
		t.Fatal(err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"pause", "--cluster", "test"}, "--reason is required"},
		{[]string{"pause", "--cluster", "test", "--reason", "x", "--for", "-1h"}, "--for must not be negative"},
		{[]string{"pause", "--reason", "x"}, "--cluster is required"},
	} {
		res := em.run(t, bad.args...)
		if res.code != cli.ExitUsage || !strings.Contains(res.stderr, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want usage error %q", bad.args, res.code, res.stderr, bad.want)
		}
	}
	if rec, _ := st.Get(ctx, "test"); rec.Pause != nil || len(rec.History) != 0 {
		t.Fatalf("bad input changed the record: %+v", rec)
	}

	res := em.run(t, "pause", "--cluster", "test", "--reason", "kernel update on node1", "--for", "2h", "--by", "alice")
	if res.code != cli.ExitOK {
		t.Fatalf("pause: exit %d, stderr %s", res.code, res.stderr)
	}
	rec, err := st.Get(ctx, "test")
	if err != nil || !rec.Paused(time.Now()) || rec.Paused(time.Now().Add(3*time.Hour)) || rec.Pause.By != "alice" {
		t.Fatalf("record after pause: %+v (%v)", rec.Pause, err)
	}
	res = em.run(t, "status", "--cluster", "test")
	if res.code != cli.ExitDown || !strings.HasPrefix(res.stdout, "*** MAINTENANCE MODE") || !strings.Contains(res.stdout, "kernel update on node1") {
		t.Errorf("status while paused: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = em.run(t, "history", "--cluster", "test")
	if !strings.Contains(res.stdout, store.ActionPause) || !strings.Contains(res.stdout, "alice") {
		t.Errorf("history after pause:\n%s", res.stdout)
	}

	res = em.run(t, "resume", "--cluster", "test", "--by", "alice")
	if res.code != cli.ExitOK {
		t.Fatalf("resume: exit %d, stderr %s", res.code, res.stderr)
	}
	if rec, _ := st.Get(ctx, "test"); rec.Pause != nil || rec.History[len(rec.History)-1].Action != store.ActionResume {
		t.Errorf("record after resume: pause %+v, history %+v", rec.Pause, rec.History)
	}
	if res := em.run(t, "status", "--cluster", "test"); strings.Contains(res.stdout, "MAINTENANCE") {
		t.Errorf("status after resume still shows maintenance:\n%s", res.stdout)
	}
}

// rejoin records the request for a former primary; the recorded primary
// cannot be asked, and bad input changes nothing.
func TestRejoinRequest(t *testing.T) {
	em := newEmulator(t)
	ctx := context.Background()
	st := em.store(t)
	if _, err := st.Init(ctx, "test", "node1"); err != nil {
		t.Fatal(err)
	}
	if res := em.run(t, "rejoin", "--cluster", "test"); res.code != cli.ExitUsage || !strings.Contains(res.stderr, "one argument") {
		t.Errorf("rejoin without a node: exit %d, %s", res.code, res.stderr)
	}
	if res := em.run(t, "rejoin", "node1", "--cluster", "test"); res.code != cli.ExitFailure || !strings.Contains(res.stderr, "recorded primary") {
		t.Errorf("rejoin of the primary: exit %d, %s", res.code, res.stderr)
	}
	if rec, _ := st.Get(ctx, "test"); rec.RejoinRequest != nil {
		t.Fatalf("a refused request was recorded: %+v", rec.RejoinRequest)
	}
	if res := em.run(t, "rejoin", "node2", "--cluster", "test", "--by", "bob"); res.code != cli.ExitOK {
		t.Fatalf("rejoin node2: exit %d, %s", res.code, res.stderr)
	}
	if rec, _ := st.Get(ctx, "test"); rec.RejoinRequest == nil || rec.RejoinRequest.Node != "node2" || rec.RejoinRequest.By != "bob" {
		t.Errorf("request in the record: %+v", rec.RejoinRequest)
	}
}

// status shows the detection alarms by the template's names: the state
// CloudWatch reports, or "not found".
func TestStatusShowsDetectionAlarms(t *testing.T) {
	em := newEmulator(t)
	ctx := context.Background()
	if _, err := em.store(t).Init(ctx, "test", "node1"); err != nil {
		t.Fatal(err)
	}
	clients, err := awsall.NewClients(ctx, awsall.LocalConfig(em.url, "us-east-1", "AKIDSEED")...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("switchyard-test-primary-heartbeat"),
		Namespace: aws.String("Switchyard"), MetricName: aws.String("Heartbeat"), Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(10),
		EvaluationPeriods: aws.Int32(2), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold}); err != nil {
		t.Fatal(err)
	}
	res := em.run(t, "status", "--cluster", "test")
	if res.code != cli.ExitDown { // no agent has renewed: the record cannot tell
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	mustContain(t, "status", res.stdout, "alarms   switchyard-test-primary-heartbeat INSUFFICIENT_DATA since ",
		"switchyard-test-primary-unreachable not found")
}
