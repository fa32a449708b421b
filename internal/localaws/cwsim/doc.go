// Package cwsim emulates the part of Amazon CloudWatch that Switchyard uses:
// custom metrics, single-metric alarms and their evaluation, and the
// EventBridge "CloudWatch Alarm State Change" events that start a failover.
//
// The Service plugs into localaws.Server under the signing name
// "monitoring" and speaks the wire protocol of the current aws-sdk-go-v2
// CloudWatch client: Smithy RPC v2 CBOR (POST
// /service/GraniteServiceVersion20100801/operation/<Op>, CBOR bodies,
// timestamps as CBOR tag 1 epoch seconds, the Smithy-Protocol header echoed).
// CloudWatch is "awsQuery compatible": errors carry the shape id in __type
// and the classic query error code in the X-Amzn-Query-Error header
// ("InvalidParameterValue;Sender"), which the SDK reports as the error code.
//
// Operations: PutMetricData, GetMetricData, PutMetricAlarm, DescribeAlarms,
// SetAlarmState, DeleteAlarms, validated as CloudWatch documents them. All
// draw from the localaws.BucketCloudWatch token bucket and are throttled with
// the "Throttling" error.
//
// Alarm evaluation follows "Configuring how CloudWatch alarms treat missing
// data" in the CloudWatch user guide: every evaluation looks at the most
// recent complete periods of an evaluation range a little longer than
// EvaluationPeriods, uses real datapoints first, fills missing ones per
// TreatMissingData only as often as needed, and applies "M out of N"
// (DatapointsToAlarm). EvaluateNow runs one evaluation at a given time, so
// tests drive alarms with a synthetic clock; Start runs it on a ticker.
// Each state change is published, shaped exactly like AWS's event, to an
// EventPublisher (the in-process eventbus.Bus fits).
//
// Metrics and alarms are kept in memory, not partitioned by region; the
// region of the creating call names an alarm's ARN.
package cwsim
