package failover

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/localaws"
	"github.com/switchyard/switchyard/internal/localaws/cwsim"
	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/localaws/sfnsim"
	"github.com/switchyard/switchyard/internal/store"
)

// endings is an emulated account with the cluster record, the heartbeat
// alarm and a state machine whose executions wait until stopped: what the
// lease step and the cleanup see of an execution that ended mid-failover.
type endings struct {
	deps    *Deps
	cw      *cwsim.Service
	sfn     *sfnsim.Service
	machine string
}

func newEndings(t *testing.T) *endings {
	t.Helper()
	ctx := context.Background()
	cfg := sampleClusterConfig(t)
	srv := localaws.NewServer()
	db := ddbsim.New(ddbsim.Options{})
	if err := db.CreateTable(ddbsim.TableSpec{Name: cfg.Table, HashKey: "cluster", HashKeyType: "S"}); err != nil {
		t.Fatal(err)
	}
	cw := cwsim.New(cwsim.Options{})
	sm := sfnsim.New(sfnsim.Options{Region: "us-east-1", AccountID: "123456789012"})
	t.Cleanup(sm.Close)
	srv.Register(db)
	srv.Register(cw)
	srv.Register(sm)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := awsall.NewClients(ctx, awsall.LocalConfig(hs.URL, "us-east-1", "CleanupFunction")...)
	if err != nil {
		t.Fatal(err)
	}
	machine, err := sm.CreateStateMachine("failover", []byte(`{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		"arn:aws:iam::123456789012:role/sm")
	if err != nil {
		t.Fatal(err)
	}
	putHeartbeatAlarm(t, c.CloudWatch, cfg.Detection.AlarmName)
	d := &Deps{base: base{Config: cfg}, CloudWatch: c.CloudWatch, SFN: c.SFN, Store: store.New(c.DynamoDB, cfg.Table)}
	if _, err := d.Store.Init(ctx, cfg.Name, "node1"); err != nil {
		t.Fatal(err)
	}
	return &endings{deps: d, cw: cw, sfn: sm, machine: machine}
}

// start runs an execution of the holding state machine with input.
func (e *endings) start(t *testing.T, name string, input []byte) string {
	t.Helper()
	arn, err := e.sfn.Start(context.Background(), e.machine, name, input)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}

func (e *endings) stop(t *testing.T, arn string) {
	t.Helper()
	if _, err := e.deps.SFN.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

func (e *endings) alarm(t *testing.T, v cwtypes.StateValue) {
	t.Helper()
	if _, err := e.deps.CloudWatch.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(e.deps.Config.Detection.AlarmName), StateValue: v, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
}

func statusEvent(arn, machine, status string, input []byte, errName string) ExecutionStatusEvent {
	in := string(input)
	d := ExecutionStatusDetail{ExecutionArn: arn, StateMachineArn: machine, Name: arn[strings.LastIndex(arn, ":")+1:], Status: status, Input: &in}
	if errName != "" {
		d.Error = &errName
	}
	return ExecutionStatusEvent{Source: SourceStepFunctions, DetailType: DetailExecutionStatus, Detail: d}
}

func alarmEvent(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, "alarm-state-change.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A lock left by an execution that Step Functions says has ended is taken
// over by the next execution at once; one held by a running execution is
// not.
func TestLeaseTakesOverTheLockOfAnEndedExecution(t *testing.T) {
	ctx := context.Background()
	e := newEndings(t)
	manual := []byte(`{"action":"failover","cluster":"demo","reason":"test"}`)
	first := e.start(t, "first", manual)
	second := e.start(t, "second", manual)
	lease := &LeaseStep{Deps: e.deps}
	got, err := lease.Handle(ctx, State{Execution: first, Request: Request{Action: ActionFailover}})
	if err != nil || !got.Acquired {
		t.Fatalf("first execution: %+v, %v", got, err)
	}
	if got, err := lease.Handle(ctx, State{Execution: second, Request: Request{Action: ActionFailover}}); err != nil || got.Acquired || got.Holder != first {
		t.Fatalf("while the holder runs: %+v, %v; want already in progress", got, err)
	}
	e.stop(t, first)
	got2, err := lease.Handle(ctx, State{Execution: second, Request: Request{Action: ActionFailover}})
	if err != nil || !got2.Acquired || got2.Epoch != got.Epoch+1 {
		t.Fatalf("after the holder was stopped: %+v, %v; want the lock at epoch %d", got2, err, got.Epoch+1)
	}
	rec, err := e.deps.Store.Get(ctx, e.deps.Config.Name)
	if err != nil {
		t.Fatal(err)
	}
	if last := rec.History[len(rec.History)-1]; last.Execution != first || last.Outcome != store.OutcomeAborted {
		t.Errorf("history of the stopped execution: %+v", last)
	}
}

// The cleanup releases a lock the ended execution kept, re-arms the alarm
// after an alarm-triggered one, and leaves a refusal (which re-armed
// itself) and a lock that moved on alone.
func TestCleanupReleasesAndRearms(t *testing.T) {
	ctx := context.Background()
	e := newEndings(t)
	cfg := e.deps.Config
	input := alarmEvent(t)
	exec := e.start(t, "timed-out", input)
	if _, err := e.deps.Store.AcquireLock(ctx, cfg.Name, exec, LeaseTTL, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.alarm(t, cwtypes.StateValueAlarm)
	res, err := (&Cleanup{Deps: e.deps}).Handle(ctx, statusEvent(exec, e.machine, "TIMED_OUT", input, "States.Timeout"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Released || !res.Rearmed || res.Resumed != "" {
		t.Errorf("cleanup after a timeout: %+v", res)
	}
	rec, err := e.deps.Store.Get(ctx, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Lock != nil || rec.History[len(rec.History)-1].Outcome != store.OutcomeTimedOut {
		t.Errorf("record after the cleanup: lock %+v, history %+v", rec.Lock, rec.History)
	}
	if st, _ := e.cw.AlarmState(cfg.Detection.AlarmName); st.Value != cwsim.StateOK {
		t.Errorf("alarm %s after the cleanup, want OK", st.Value)
	}

	e.alarm(t, cwtypes.StateValueAlarm)
	res, err = (&Cleanup{Deps: e.deps}).Handle(ctx, statusEvent(exec, e.machine, "FAILED", input, "FailoverRefused"))
	if err != nil || res.Released || res.Rearmed {
		t.Errorf("cleanup after a refusal: %+v, %v; want nothing done", res, err)
	}
	if st, _ := e.cw.AlarmState(cfg.Detection.AlarmName); st.Value != cwsim.StateAlarm {
		t.Errorf("alarm %s after the refusal's cleanup, want left in ALARM", st.Value)
	}
	if res, err := (&Cleanup{Deps: e.deps}).Handle(ctx, statusEvent(exec, e.machine, "SUCCEEDED", input, "")); err != nil || res.Released || res.Rearmed {
		t.Errorf("cleanup after a success: %+v, %v; want nothing done", res, err)
	}
	bad := statusEvent(exec, e.machine, "ABORTED", input, "")
	bad.Source = "aws.cloudwatch"
	if _, err := (&Cleanup{Deps: e.deps}).Handle(ctx, bad); err == nil || !strings.Contains(err.Error(), "aws.cloudwatch") {
		t.Errorf("cleanup of a foreign event: %v, want an error naming the source", err)
	}
}

// An execution that ended after granting the primary role is finished by a
// new execution the cleanup starts, once, whatever the redeliveries.
func TestCleanupResumesAGrantedHandover(t *testing.T) {
	ctx := context.Background()
	e := newEndings(t)
	cfg := e.deps.Config
	st := e.deps.Store
	manual := []byte(`{"action":"failover","cluster":"demo","reason":"test"}`)
	exec := e.start(t, "granted", manual)
	t0 := time.Now()
	rec, err := st.AcquireLock(ctx, cfg.Name, exec, LeaseTTL, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokePrimaryLease(ctx, cfg.Name, exec, rec.Epoch, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkHardFenced(ctx, cfg.Name, exec, rec.Epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GrantPrimary(ctx, cfg.Name, store.Grant{Holder: exec, Epoch: rec.Epoch, NewPrimary: "node2", Now: t0, Duration: 8 * time.Second}); err != nil {
		t.Fatal(err)
	}
	e.stop(t, exec)
	ev := statusEvent(exec, e.machine, "ABORTED", manual, "")
	for range 2 { // EventBridge delivers at least once
		res, err := (&Cleanup{Deps: e.deps}).Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Resumed == "" && res.Released {
			t.Errorf("cleanup released a granted handover without resuming it: %+v", res)
		}
	}
	var resumed []sfnsim.ExecutionInfo
	for _, x := range e.sfn.Executions(e.machine) {
		if strings.HasPrefix(x.Name, "resume-") {
			resumed = append(resumed, x)
		}
	}
	if len(resumed) != 1 {
		t.Fatalf("%d resume executions, want 1: %+v", len(resumed), resumed)
	}
	var req map[string]string
	if err := json.Unmarshal(resumed[0].Input, &req); err != nil || req["action"] != ActionFailover || !strings.Contains(req["reason"], "node2") {
		t.Errorf("resume input %s (%v)", resumed[0].Input, err)
	}
	got, err := st.Get(ctx, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lock != nil || got.Primary != "node2" || !got.PrimaryLease.HandoverPending() {
		t.Errorf("record after the cleanup: lock %+v primary %s lease %+v; want released, node2, handover still pending", got.Lock, got.Primary, got.PrimaryLease)
	}
}
