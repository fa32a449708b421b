package samtemplate

import "slices"

// StreamEvent is a function's DynamoDB event: an event source mapping
// from a table's stream.
type StreamEvent struct {
	EventID string
	// Stream is the stream ARN (GetAtt <Table>.StreamArn).
	Stream string
	// StartingPosition is TRIM_HORIZON or LATEST.
	StartingPosition string
	// BatchSize is the most records per invocation (Lambda's default 100).
	BatchSize int
	// BatchingWindowSeconds is MaximumBatchingWindowInSeconds (0: none).
	BatchingWindowSeconds int
	// MaximumRetryAttempts is how often a failing batch is retried (-1,
	// Lambda's default: until the record expires).
	MaximumRetryAttempts int
	// MaximumRecordAgeSeconds drops older records (-1: never).
	MaximumRecordAgeSeconds int
	// ReportBatchItemFailures: the function reports the first failed
	// record and Lambda retries from it.
	ReportBatchItemFailures bool
}

// Lambda's defaults for a DynamoDB event source mapping.
const (
	DefaultStreamBatchSize = 100
	defaultUnlimited       = -1
)

func streamEvent(id string, ev *reader) (StreamEvent, error) {
	props := ev.sub("Properties")
	se := StreamEvent{
		EventID:                 id,
		Stream:                  props.required("Stream"),
		StartingPosition:        props.required("StartingPosition"),
		BatchSize:               props.intOr("BatchSize", DefaultStreamBatchSize),
		BatchingWindowSeconds:   props.intOr("MaximumBatchingWindowInSeconds", 0),
		MaximumRetryAttempts:    props.intOr("MaximumRetryAttempts", defaultUnlimited),
		MaximumRecordAgeSeconds: props.intOr("MaximumRecordAgeInSeconds", defaultUnlimited),
	}
	se.ReportBatchItemFailures = slices.Contains(props.strList("FunctionResponseTypes"), "ReportBatchItemFailures")
	props.boolOr("BisectBatchOnFunctionError", false)
	props.boolOr("Enabled", true)
	if err := collect(ev, props); err != nil {
		return StreamEvent{}, err
	}
	switch {
	case se.StartingPosition != "TRIM_HORIZON" && se.StartingPosition != "LATEST":
		return StreamEvent{}, errf(props.path+".StartingPosition", "%q is neither TRIM_HORIZON nor LATEST", se.StartingPosition)
	case se.BatchSize < 1 || se.BatchSize > 10000:
		return StreamEvent{}, errf(props.path+".BatchSize", "%d is outside 1–10000", se.BatchSize)
	case se.BatchingWindowSeconds < 0 || se.BatchingWindowSeconds > 300:
		return StreamEvent{}, errf(props.path+".MaximumBatchingWindowInSeconds", "%d is outside 0–300", se.BatchingWindowSeconds)
	}
	return se, nil
}
