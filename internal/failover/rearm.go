package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/internal/cluster"
)

// RearmStep puts the alarm that started the execution back to OK after an alarm-triggered
// execution ended without a failover (no failover needed, or refused).
//
// EventBridge delivers alarm state *changes*: an alarm left in ALARM would
// never start another execution, so a real failure after a false alarm
// would go unhandled. Re-arming makes CloudWatch evaluate again; if the
// heartbeats are still missing the alarm returns to ALARM and starts a new
// execution, which assesses afresh. The state machine waits before
// re-arming, which bounds a persistent false alarm to one execution per
// wait. It changes only the alarm's state, never the cluster.
type RearmStep struct{ *Deps }

// Handle is the Lambda handler.
func (h *RearmStep) Handle(ctx context.Context, s State) (*StepResult, error) {
	start := h.now()
	if s.Request.Trigger != TriggerAlarm {
		return nil, &StepFailed{Step: "rearm", Err: errors.New("only alarm-triggered executions re-arm the alarm")}
	}
	reason := "Switchyard re-armed the alarm: the execution ended without a failover"
	if s.Assessment != nil {
		reason += " (" + s.Assessment.Decision + ": " + s.Assessment.Reason + ")"
	}
	alarm := triggerAlarm(h.Config.Detection, s.Request)
	_, err := h.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName:   aws.String(alarm),
		StateValue:  cwtypes.StateValueOk,
		StateReason: aws.String(clip(reason)),
	})
	if err != nil {
		return nil, classify("rearm", err)
	}
	h.logger("rearm", s).Info("alarm re-armed", "alarm", alarm)
	return result(start, h.now(), fmt.Sprintf("alarm %s set to OK for re-evaluation", alarm)), nil
}

// triggerAlarm is the alarm that started an alarm-triggered request (its
// observer); the heartbeat alarm when the request does not name one of the
// cluster's detection alarms (an input from before there were two).
func triggerAlarm(d cluster.Detection, r Request) string {
	if d.IsAlarm(r.Observer) {
		return r.Observer
	}
	return d.AlarmName
}
