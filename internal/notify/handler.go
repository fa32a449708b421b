package notify

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/switchyard/switchyard/internal/store"
)

// EnvTopicARN names the environment variable that holds the topic ARN.
const EnvTopicARN = "SWITCHYARD_TOPIC_ARN"

// Publisher is the part of the SNS API the handler calls.
type Publisher interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Handler is the notify Lambda: it reads a batch of the cluster table's
// stream records (NEW_AND_OLD_IMAGES) and publishes a message for each
// change.
type Handler struct {
	SNS      Publisher
	TopicARN string
	Log      *slog.Logger
}

// Handle is the Lambda handler. It reports the first record whose message
// could not be published as a batch item failure (the event source
// mapping's ReportBatchItemFailures), so Lambda retries from that record
// on and no message is lost or, before it, repeated. A record that cannot
// be decoded is logged and skipped: a poison record must not stop every
// later notice.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, r := range ev.Records {
		changes, err := recordChanges(r)
		if err != nil {
			h.Log.Error("skipping a stream record that does not decode", "eventID", r.EventID, "err", err)
			continue
		}
		for _, c := range changes {
			m := Format(c)
			out, err := h.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(h.TopicARN),
				Subject: aws.String(m.Subject), Message: aws.String(m.Body)})
			if err != nil {
				h.Log.Error("publishing a notice failed; the batch is retried from this record", "subject", m.Subject, "err", err)
				resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
				return resp, nil
			}
			h.Log.Info("notice published", "kind", c.Kind, "subject", m.Subject, "messageId", aws.ToString(out.MessageId))
		}
	}
	return resp, nil
}

// recordChanges decodes a stream record's images and diffs them. The
// table holds two items per cluster (see store's Layout): a record item's
// changes are the redundancy ones (its images hold no history, unless an
// earlier version kept the history inside them), a history item's the new
// entries. A history item appearing (INSERT) announces only its newest
// entry: the others, when it has any, were moved out of the record item,
// where they were announced when they were new.
func recordChanges(r events.DynamoDBEventRecord) ([]Change, error) {
	if r.EventName == "REMOVE" || len(r.Change.NewImage) == 0 {
		return nil, nil
	}
	cur, err := decodeImage(r.Change.NewImage)
	if err != nil {
		return nil, fmt.Errorf("new image: %w", err)
	}
	var old *store.Record
	if len(r.Change.OldImage) > 0 {
		o, err := decodeImage(r.Change.OldImage)
		if err != nil {
			return nil, fmt.Errorf("old image: %w", err)
		}
		old = &o
	} else if isHistoryImage(r.Change.NewImage) && len(cur.History) > 1 {
		cur.History = cur.History[len(cur.History)-1:]
	}
	return Changes(old, cur), nil
}

// isHistoryImage reports whether a stream image is of a history item.
func isHistoryImage(img map[string]events.DynamoDBAttributeValue) bool {
	k, ok := img["cluster"]
	if !ok || k.DataType() != events.DataTypeString {
		return false
	}
	_, isHistory := store.ParseHistoryKey(k.String())
	return isHistory
}
