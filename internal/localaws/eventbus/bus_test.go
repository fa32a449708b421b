package eventbus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestBus(t *testing.T, opts Options) *Bus {
	t.Helper()
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 4 * time.Millisecond
	}
	b := New(opts)
	t.Cleanup(b.Close)
	return b
}

func waitIdle(t *testing.T, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// recorder is a Target that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) target(_ context.Context, ev []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, string(ev))
	return nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func TestPublishDeliversToMatchingRulesOnly(t *testing.T) {
	b := newTestBus(t, Options{})
	var alarms, ec2 recorder
	if err := b.PutRule("failover-trigger", []byte(heartbeatPattern), alarms.target); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRule("ec2-terminations", []byte(`{"source":["aws.ec2"],"detail":{"state":["terminated"]}}`), ec2.target); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	okEvent := strings.Replace(alarmEvent, `"state": {"value": "ALARM"`, `"state": {"value": "OK"`, 1)
	for _, ev := range []string{alarmEvent, okEvent, ec2Event} {
		if err := b.Publish(ctx, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, b)
	if got := alarms.got(); len(got) != 1 || got[0] != alarmEvent {
		t.Errorf("alarm rule received %d events %v, want only the ALARM event", len(got), got)
	}
	if got := ec2.got(); len(got) != 1 || got[0] != ec2Event {
		t.Errorf("ec2 rule received %v, want only the EC2 event", got)
	}
	ds := b.Deliveries()
	if len(ds) != 2 {
		t.Fatalf("Deliveries() = %d entries, want 2", len(ds))
	}
	for _, d := range ds {
		if d.Attempts != 1 || d.Err != nil || d.Finished.IsZero() {
			t.Errorf("delivery %+v: want one successful attempt with a finish time", d)
		}
	}
}

func TestDeliveryOrderPerRuleIsPublishOrder(t *testing.T) {
	b := newTestBus(t, Options{})
	var r recorder
	if err := b.PutRule("all", []byte(`{"detail":{"n":[{"exists":true}]}}`), r.target); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 50 {
		ev := fmt.Sprintf(`{"detail":{"n":%d}}`, i)
		want = append(want, ev)
		if err := b.Publish(context.Background(), []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, b)
	got := r.got()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("delivered out of order:\n%v\nwant\n%v", got, want)
	}
}

func TestFailedDeliveryIsRetriedThenSucceeds(t *testing.T) {
	b := newTestBus(t, Options{MaxAttempts: 5})
	var calls atomic.Int32
	target := func(context.Context, []byte) error {
		if calls.Add(1) < 3 {
			return errors.New("state machine throttled")
		}
		return nil
	}
	if err := b.PutRule("flaky", []byte(heartbeatPattern), target); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	ds := b.Deliveries()
	if len(ds) != 1 || ds[0].Attempts != 3 || ds[0].Err != nil {
		t.Fatalf("Deliveries() = %+v, want one delivery after 3 attempts", ds)
	}
	if f := b.FailedDeliveries(); len(f) != 0 {
		t.Errorf("FailedDeliveries() = %+v, want none", f)
	}
}

func TestDeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	b := newTestBus(t, Options{MaxAttempts: 3})
	var calls atomic.Int32
	boom := errors.New("target unavailable")
	target := func(context.Context, []byte) error {
		calls.Add(1)
		return boom
	}
	if err := b.PutRule("broken", []byte(heartbeatPattern), target); err != nil {
		t.Fatal(err)
	}
	var healthy recorder
	if err := b.PutRule("healthy", []byte(heartbeatPattern), healthy.target); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	if n := calls.Load(); n != 3 {
		t.Errorf("broken target called %d times, want 3", n)
	}
	failed := b.FailedDeliveries()
	if len(failed) != 1 || failed[0].Rule != "broken" || failed[0].Attempts != 3 || !errors.Is(failed[0].Err, boom) {
		t.Fatalf("FailedDeliveries() = %+v, want the broken rule after 3 attempts wrapping the target error", failed)
	}
	if got := healthy.got(); len(got) != 1 {
		t.Errorf("a failing rule must not stop others: healthy rule got %d events", len(got))
	}
}

func TestPanickingTargetIsAFailedDelivery(t *testing.T) {
	b := newTestBus(t, Options{MaxAttempts: 2})
	if err := b.PutRule("panics", []byte(heartbeatPattern), func(context.Context, []byte) error { panic("bug") }); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	failed := b.FailedDeliveries()
	if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "panicked") {
		t.Fatalf("FailedDeliveries() = %+v, want one panicked delivery", failed)
	}
}

func TestPutRuleValidates(t *testing.T) {
	b := newTestBus(t, Options{})
	var r recorder
	err := b.PutRule("bad", []byte(`{"source":"aws.cloudwatch"}`), r.target)
	if !errors.Is(err, ErrInvalidPattern) || !strings.Contains(err.Error(), `rule "bad"`) {
		t.Errorf("PutRule with a bad pattern: %v, want ErrInvalidPattern naming the rule", err)
	}
	if err := b.PutRule("has space", []byte(heartbeatPattern), r.target); err == nil {
		t.Error("PutRule accepted a name with a space")
	}
	if err := b.PutRule("nil-target", []byte(heartbeatPattern), nil); err == nil {
		t.Error("PutRule accepted a nil target")
	}
	if got := b.Rules(); len(got) != 0 {
		t.Errorf("Rules() = %v after failed PutRule calls, want none", got)
	}
}

func TestPutRuleReplacesAndRemoveRuleStopsMatching(t *testing.T) {
	b := newTestBus(t, Options{})
	var first, second recorder
	if err := b.PutRule("r", []byte(`{"source":["aws.ec2"]}`), first.target); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRule("r", []byte(heartbeatPattern), second.target); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Publish(ctx, []byte(ec2Event)); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	if len(first.got()) != 0 || len(second.got()) != 1 {
		t.Errorf("after replacing the rule: first target got %d, second got %d; want 0 and 1", len(first.got()), len(second.got()))
	}
	if !b.RemoveRule("r") || b.RemoveRule("r") {
		t.Error("RemoveRule should report true once, then false")
	}
	if err := b.Publish(ctx, []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	if len(second.got()) != 1 {
		t.Errorf("a removed rule still received events")
	}
}

func TestPublishRejectsInvalidEventsAndClosedBus(t *testing.T) {
	b := New(Options{})
	if err := b.Publish(context.Background(), []byte(`not json`)); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Publish(not json) = %v, want ErrInvalidEvent", err)
	}
	b.Close()
	b.Close() // idempotent
	if err := b.Publish(context.Background(), []byte(alarmEvent)); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := b.PutRule("late", []byte(heartbeatPattern), func(context.Context, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("PutRule after Close = %v, want ErrClosed", err)
	}
}

func TestCloseAbandonsRetriesAndCancelsTargets(t *testing.T) {
	b := New(Options{MaxAttempts: 100, InitialBackoff: time.Hour, MaxBackoff: time.Hour})
	attempted := make(chan struct{}, 1)
	target := func(context.Context, []byte) error {
		select {
		case attempted <- struct{}{}:
		default:
		}
		return errors.New("down")
	}
	if err := b.PutRule("slow", []byte(heartbeatPattern), target); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), []byte(alarmEvent)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-attempted:
	case <-time.After(5 * time.Second):
		t.Fatal("target never called")
	}
	done := make(chan struct{})
	go func() { b.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt an hour-long backoff")
	}
	failed := b.FailedDeliveries()
	if len(failed) != 1 || failed[0].Attempts != 1 {
		t.Errorf("FailedDeliveries() after Close = %+v, want the abandoned delivery after 1 attempt", failed)
	}
}
