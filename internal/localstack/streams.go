package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/switchyard/switchyard/internal/localaws/ddbsim"
	"github.com/switchyard/switchyard/internal/samtemplate"
)

// NotificationTopicID is the template's notification topic.
const NotificationTopicID = "NotificationTopic"

// streamRetryBackoff is the first wait before a failed batch is retried;
// it doubles up to streamRetryBackoffMax.
const (
	streamRetryBackoff    = 200 * time.Millisecond
	streamRetryBackoffMax = 5 * time.Second
)

// createTopics creates the template's SNS topics and their inline
// subscriptions, as CloudFormation would.
func (s *Stack) createTopics(ctx context.Context, app *samtemplate.App) error {
	setup := s.client("cloudformation")
	for _, t := range app.Topics {
		out, err := setup.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(t.TopicName)})
		if err != nil {
			return fmt.Errorf("topic %s: %w", t.TopicName, err)
		}
		if got := aws.ToString(out.TopicArn); got != t.Arn {
			return fmt.Errorf("topic %s: created %s, the template names %s", t.TopicName, got, t.Arn)
		}
		if t.LogicalID == NotificationTopicID {
			s.NotificationTopicARN = t.Arn
		}
		for _, sub := range t.Subscriptions {
			if _, err := setup.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn,
				Protocol: aws.String(sub.Protocol), Endpoint: aws.String(sub.Endpoint)}); err != nil {
				return fmt.Errorf("topic %s: subscribing %s: %w", t.TopicName, sub.Endpoint, err)
			}
		}
	}
	return nil
}

// startStreamMappings runs, for each DynamoDB event of fn, what Lambda's
// event source mapping does: read the table's stream in order, invoke the
// function with batches of up to BatchSize records (waiting up to the
// batching window, capped by Options.StreamBatchingWindow, for a batch to
// fill), and retry a batch that failed, from the first failed record when
// the function reports batch item failures.
func (s *Stack) startStreamMappings(app *samtemplate.App, fn *samtemplate.Function, h any) error {
	for _, se := range fn.Streams {
		var table string
		for _, t := range app.Tables {
			if t.StreamArn == se.Stream {
				table = t.TableName
			}
		}
		if table == "" {
			return fmt.Errorf("%s event %s: no table of the template has stream %s", fn.LogicalID, se.EventID, se.Stream)
		}
		r, err := s.DynamoDB.Stream(table)
		if err != nil {
			return fmt.Errorf("%s event %s: %w", fn.LogicalID, se.EventID, err)
		}
		m := &streamMapping{stack: s, fn: fn.LogicalID, event: se, reader: r, handler: lambda.NewHandler(h)}
		if se.StartingPosition == "LATEST" {
			m.from = r.Latest()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.run(ctx) }()
		s.onClose(func() error { cancel(); <-done; return nil })
	}
	return nil
}

type streamMapping struct {
	stack   *Stack
	fn      string
	event   samtemplate.StreamEvent
	reader  *ddbsim.StreamReader
	handler lambda.Handler
	from    uint64
}

func (m *streamMapping) run(ctx context.Context) {
	window := min(time.Duration(m.event.BatchingWindowSeconds)*time.Second, m.stack.Options.StreamBatchingWindow)
	attempts, backoff := 0, streamRetryBackoff
	for {
		recs, changed := m.reader.Read(m.from, m.event.BatchSize)
		if len(recs) == 0 {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return
			}
		}
		if len(recs) < m.event.BatchSize && window > 0 && attempts == 0 {
			// Let the batch fill for the window, as Lambda does.
			if !wait(ctx, window) {
				return
			}
			recs, _ = m.reader.Read(m.from, m.event.BatchSize)
		}
		next, err := m.invoke(ctx, recs)
		if ctx.Err() != nil {
			return
		}
		if err == nil && next > recs[len(recs)-1].Seq {
			m.from, attempts, backoff = next, 0, streamRetryBackoff
			continue
		}
		attempts++
		if m.event.MaximumRetryAttempts >= 0 && attempts > m.event.MaximumRetryAttempts {
			m.stack.log.Error("stream batch discarded after its retries", "function", m.fn, "from", m.from, "err", err)
			m.from, attempts, backoff = recs[len(recs)-1].Seq+1, 0, streamRetryBackoff
			continue
		}
		m.stack.log.Warn("stream batch failed; retrying", "function", m.fn, "from", next, "attempt", attempts, "err", err)
		m.from = next
		if !wait(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, streamRetryBackoffMax)
	}
}

// invoke runs the function on recs and returns the sequence number to
// read from next: past the batch on success, the first failed record when
// the function reports one, the batch's first record on an error.
func (m *streamMapping) invoke(ctx context.Context, recs []ddbsim.StreamRecord) (uint64, error) {
	arn := m.reader.Arn()
	batch := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r.JSON, &fields); err != nil {
			return recs[0].Seq, fmt.Errorf("stream record %d: %w", r.Seq, err)
		}
		fields["eventSourceARN"], _ = json.Marshal(arn)
		batch[i], _ = json.Marshal(fields)
	}
	payload, err := json.Marshal(map[string]any{"Records": batch})
	if err != nil {
		return recs[0].Seq, err
	}
	out, err := m.handler.Invoke(ctx, payload)
	if err != nil {
		return recs[0].Seq, err
	}
	if !m.event.ReportBatchItemFailures {
		return recs[len(recs)-1].Seq + 1, nil
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return recs[0].Seq, fmt.Errorf("the function's batch response %s: %w", out, err)
	}
	if len(resp.BatchItemFailures) == 0 {
		return recs[len(recs)-1].Seq + 1, nil
	}
	seq, err := strconv.ParseUint(resp.BatchItemFailures[0].ItemIdentifier, 10, 64)
	if err != nil {
		return recs[0].Seq, fmt.Errorf("batch item failure %q is not a sequence number", resp.BatchItemFailures[0].ItemIdentifier)
	}
	return seq, fmt.Errorf("the function reported record %d failed", seq)
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
