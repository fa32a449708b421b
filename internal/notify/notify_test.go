package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/switchyard/switchyard/internal/store"
)

var t0 = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

const execARN = "arn:aws:states:eu-west-1:123456789012:execution:switchyard-orders:failover-orders-1"

func failoverEntry() store.HistoryEntry {
	return store.HistoryEntry{Epoch: 7, Action: store.ActionFailover, Trigger: "fast-path node2", From: "node1", To: "node2", Execution: execARN,
		Outcome: store.OutcomeSucceeded, Committed: true, Reason: "alarm: heartbeat stale", StartedAt: t0, FinishedAt: t0.Add(1840 * time.Millisecond),
		Steps: []string{"lease", "assess", "fence", "promote", "reroute", "verify", "record"}, StepMs: map[string]int64{"fence": 120, "promote": 310}}
}

func refusal(exec string, at time.Time) store.HistoryEntry {
	return store.HistoryEntry{Epoch: 8, Action: store.ActionFailover, From: "node2", To: "node1", Execution: exec,
		Outcome: store.OutcomeRefused, Reason: "standby 45 s behind", StartedAt: at, FinishedAt: at}
}

func TestChangesFindsNewEntriesOnly(t *testing.T) {
	old := store.Record{Cluster: "orders", Primary: "node1", Epoch: 6}
	cur := old
	cur.Primary, cur.Epoch = "node2", 7
	cur.History = []store.HistoryEntry{failoverEntry()}
	got := Changes(&old, cur)
	if len(got) != 1 || got[0].Kind != KindExecution || got[0].Entry.To != "node2" {
		t.Fatalf("changes %+v, want the failover", got)
	}
	// A lease renewal changes nothing an operator hears about.
	renewed := cur
	renewed.Version++
	if got := Changes(&cur, renewed); len(got) != 0 {
		t.Fatalf("a renewal gave %+v", got)
	}
}

func TestRepeatedRefusalsNotifyAtPowersOfTen(t *testing.T) {
	rec := store.Record{Cluster: "orders", Primary: "node2"}
	prev := rec
	var notified []int
	for i := 1; i <= 120; i++ {
		e := refusal(strings.Repeat("x", i%3)+"exec", t0.Add(time.Duration(i)*30*time.Second))
		e.Execution = execARN + "-" + string(rune('a'+i%26))
		cur := prev
		if i == 1 {
			cur.History = []store.HistoryEntry{e}
		} else {
			first := prev.History[0]
			merged := e
			merged.Count = first.Occurrences() + 1
			merged.FirstExecution, merged.FirstFinishedAt, merged.FirstEpoch = first.Execution, first.FinishedAt, first.Epoch
			if first.Occurrences() > 1 {
				merged.FirstExecution, merged.FirstFinishedAt = first.FirstExecution, first.FirstFinishedAt
			}
			cur.History = []store.HistoryEntry{merged}
		}
		if got := Changes(&prev, cur); len(got) > 0 {
			notified = append(notified, cur.History[0].Occurrences())
		}
		prev = cur
	}
	if want := []int{1, 10, 100}; !equalInts(notified, want) {
		t.Fatalf("notified at counts %v, want %v", notified, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRedundancyLostAndRestored(t *testing.T) {
	healthy := store.Record{Cluster: "orders", Primary: "node1", Standby: &store.StandbyState{Node: "node2", Eligible: true}}
	lost := healthy
	lost.Standby = &store.StandbyState{Node: "node2", Reason: "not streaming for 12 s", Changed: t0}
	got := Changes(&healthy, lost)
	if len(got) != 1 || got[0].Kind != KindLostRedundancy {
		t.Fatalf("changes %+v, want lost redundancy", got)
	}
	if m := Format(got[0]); !strings.Contains(m.Subject, "lost redundancy: standby node2") || !strings.Contains(m.Body, "not streaming for 12 s") {
		t.Fatalf("message %+v", m)
	}
	if got := Changes(&lost, healthy); len(got) != 1 || got[0].Kind != KindRedundancyRestored {
		t.Fatalf("changes %+v, want redundancy restored", got)
	}
	// A first eligibility (the pair coming up) is not a restoration.
	fresh := store.Record{Cluster: "orders", Primary: "node1"}
	if got := Changes(&fresh, healthy); len(got) != 0 {
		t.Fatalf("first eligibility gave %+v", got)
	}
}

func TestFormatFailover(t *testing.T) {
	c := Change{Kind: KindExecution, Cluster: "orders", Entry: ptr(failoverEntry()), Primary: "node2", Epoch: 7}
	m := Format(c)
	if m.Subject != "Switchyard orders: failover node1 -> node2 SUCCEEDED" {
		t.Fatalf("subject %q", m.Subject)
	}
	for _, want := range []string{
		"Primary:   node2 (epoch 7)",
		"(took 1.84s)",
		"Trigger:   fast-path node2",
		"Steps:     lease, assess, fence 120ms, promote 310ms, reroute, verify, record",
		"Console:   https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + execARN,
	} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
}

func TestSubjectIsWhatSNSAccepts(t *testing.T) {
	e := refusal(execARN, t0)
	e.Reason = "x"
	c := Change{Kind: KindExecution, Cluster: "ördérs-" + strings.Repeat("long", 40) + "\n", Entry: &e}
	s := Format(c).Subject
	if len(s) > MaxSubject {
		t.Fatalf("subject is %d characters", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f {
			t.Fatalf("subject has %q: %q", r, s)
		}
	}
}

func TestConsoleLinkPartitions(t *testing.T) {
	for arn, want := range map[string]string{
		execARN: "https://eu-west-1.console.aws.amazon.com/",
		"arn:aws-cn:states:cn-north-1:1:execution:m:n": "https://cn-north-1.console.amazonaws.cn/",
		"cli:alice": "",
		"":          "",
	} {
		if got := ConsoleLink(arn); !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("ConsoleLink(%q) = %q, want prefix %q", arn, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

type fakeSNS struct {
	failAfter int
	sent      []*sns.PublishInput
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if f.failAfter >= 0 && len(f.sent) >= f.failAfter {
		return nil, errors.New("throttled")
	}
	f.sent = append(f.sent, in)
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

// streamRecord builds a MODIFY record of the history item the way Lambda
// delivers it, through the event's JSON form.
func streamRecord(t *testing.T, seq string, old, cur store.Record) events.DynamoDBEventRecord {
	t.Helper()
	r := events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
		OldImage: historyImage(t, old), NewImage: historyImage(t, cur), StreamViewType: "NEW_AND_OLD_IMAGES"}}
	return r
}

func TestHandlerPublishesAndReportsTheFirstFailure(t *testing.T) {
	base := store.Record{Cluster: "orders", Primary: "node1", Epoch: 6}
	failed := base
	failed.History = []store.HistoryEntry{failoverEntry()}
	paused := failed
	paused.History = append(append([]store.HistoryEntry{}, failed.History...), store.HistoryEntry{Action: store.ActionPause,
		Outcome: store.OutcomeSucceeded, Execution: "cli", Reason: "kernel upgrade", StartedAt: t0, FinishedAt: t0.Add(time.Minute)})
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		streamRecord(t, "100", base, failed), streamRecord(t, "200", failed, paused)}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	ok := &fakeSNS{failAfter: -1}
	resp, err := (&Handler{SNS: ok, TopicARN: "arn:aws:sns:eu-west-1:1:t", Log: log}).Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 || len(ok.sent) != 2 {
		t.Fatalf("resp %+v err %v sent %d, want 2 published", resp, err, len(ok.sent))
	}
	if s := aws.ToString(ok.sent[1].Subject); !strings.Contains(s, "maintenance mode on") {
		t.Fatalf("second subject %q", s)
	}

	flaky := &fakeSNS{failAfter: 1}
	resp, err = (&Handler{SNS: flaky, TopicARN: "t", Log: log}).Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "200" {
		t.Fatalf("resp %+v err %v, want the second record reported", resp, err)
	}
}
