package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/store"
)

// The EventBridge event Step Functions sends when an execution changes
// status, and the statuses the cleanup acts on.
const (
	SourceStepFunctions   = "aws.states"
	DetailExecutionStatus = "Step Functions Execution Status Change"
)

// ExecutionStatusEvent is EventBridge's "Step Functions Execution Status
// Change" event, the fields the cleanup reads.
type ExecutionStatusEvent struct {
	Source     string                `json:"source"`
	DetailType string                `json:"detail-type"`
	Detail     ExecutionStatusDetail `json:"detail"`
}

// ExecutionStatusDetail is the event's detail.
type ExecutionStatusDetail struct {
	ExecutionArn    string  `json:"executionArn"`
	StateMachineArn string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	Input           *string `json:"input"`
	Error           *string `json:"error"`
	Cause           *string `json:"cause"`
}

// CleanupResult says what the cleanup did.
type CleanupResult struct {
	Execution string `json:"execution"`
	Status    string `json:"status"`
	// Released: the ended execution still held the failover lock, and the
	// cleanup released it with a history entry.
	Released bool `json:"released"`
	// Rearmed: the heartbeat alarm was set to OK so that CloudWatch
	// evaluates it again.
	Rearmed bool `json:"rearmed"`
	// Resumed is the execution started to finish a handover the ended
	// execution had granted but not completed ("" when none).
	Resumed string `json:"resumed,omitempty"`
	Summary string `json:"summary"`
}

// Cleanup runs when an execution of the failover state machine ends
// FAILED, TIMED_OUT or ABORTED. Step Functions cannot catch its own
// timeout or a StopExecution, so without it such an ending would leave the
// failover lock held until its TTL and the alarm in ALARM (EventBridge
// sends alarm state changes only, so an alarm left in ALARM never starts
// another execution). It
//
//   - releases the lock if the ended execution still holds it, writing a
//     history entry with the status;
//   - re-arms the heartbeat alarm after an alarm-triggered execution
//     (unless the state machine's refusal path re-armed it already), so a
//     primary that is still down starts a new execution, which reconciles
//     from what it observes;
//   - when a handover is pending (a failover made the standby the recorded
//     primary with store.GrantPrimary and did not finish: stopped, timed
//     out, or failed after the grant) and no execution holds the lock,
//     starts one execution that finishes it (promote if needed, reroute,
//     verify, record): the new primary's heartbeats keep the alarm OK, so
//     no alarm would ever start it.
type Cleanup struct{ *Deps }

// Handle is the Lambda handler.
func (h *Cleanup) Handle(ctx context.Context, ev ExecutionStatusEvent) (CleanupResult, error) {
	d := ev.Detail
	res := CleanupResult{Execution: d.ExecutionArn, Status: d.Status}
	if ev.Source != SourceStepFunctions || ev.DetailType != DetailExecutionStatus || d.ExecutionArn == "" {
		return res, &StepFailed{Step: "cleanup", Err: fmt.Errorf("not a %q event from %s with an executionArn (source %q, detail-type %q)",
			DetailExecutionStatus, SourceStepFunctions, ev.Source, ev.DetailType)}
	}
	switch d.Status {
	case "FAILED", "TIMED_OUT", "ABORTED":
	default:
		res.Summary = "nothing to clean up after status " + d.Status
		return res, nil
	}
	log := h.Log
	if log == nil {
		log = h.logger("cleanup", State{Execution: d.ExecutionArn})
	}
	log = log.With("cluster", h.Config.Name, "execution", d.ExecutionArn, "status", d.Status)
	trigger := h.triggerOf(d.Input)

	rec, err := h.Store.GetState(ctx, h.Config.Name)
	var noRecord *store.ErrNoRecord
	switch {
	case errors.As(err, &noRecord):
		res.Summary = "no cluster record: nothing to release"
	case err != nil:
		return res, classify("cleanup: reading the cluster record", err)
	default:
		pending := rec.PrimaryLease.HandoverPending() && rec.PrimaryLease.Node == rec.Primary
		if rec.LockHeldBy(d.ExecutionArn) {
			entry := store.HistoryEntry{Action: ActionFailover, Execution: d.ExecutionArn, Outcome: EndedOutcome(d.Status),
				Epoch: rec.Epoch, FinishedAt: h.now(), Reason: endedReason(d)}
			if pending {
				entry.From, entry.To = rec.PrimaryLease.GrantedFrom, rec.Primary
			}
			if _, err := h.Store.Release(ctx, h.Config.Name, d.ExecutionArn, entry); err != nil {
				var notHolder *store.ErrNotLockHolder
				if !errors.As(err, &notHolder) {
					return res, classify("cleanup: releasing the failover lock", err)
				}
			} else {
				res.Released = true
				rec.Lock = nil
				log.Warn("released the failover lock of an execution that ended without releasing it")
			}
		}
		// A handover granted but not finished: the new primary's heartbeats
		// keep the alarm quiet, so nothing else would finish it. One resume
		// per ended execution; a resume that fails itself is left to an
		// operator (switchyard status names the command), so a persistent
		// failure cannot loop.
		if pending && rec.Lock == nil && !isResume(d.Name) {
			name, err := h.resume(ctx, d, rec)
			if err != nil {
				return res, err
			}
			res.Resumed = name
			log.Warn("started an execution to finish the interrupted handover", "to", rec.Primary, "resume", name)
		}
	}
	refusalRearmed := d.Status == "FAILED" && d.Error != nil && *d.Error == "FailoverRefused"
	if trigger == TriggerAlarm && !refusalRearmed {
		if err := h.rearm(ctx, d); err != nil {
			return res, err
		}
		res.Rearmed = true
	}
	res.Summary = fmt.Sprintf("execution %s ended %s: lock released %t, alarm re-armed %t, resumed %q",
		d.Name, d.Status, res.Released, res.Rearmed, res.Resumed)
	log.Info("cleaned up", "released", res.Released, "rearmed", res.Rearmed, "resumed", res.Resumed,
		"notification", res.Summary)
	return res, nil
}

// resumePrefix names the executions the cleanup starts.
const resumePrefix = "resume-"

func isResume(name string) bool { return strings.HasPrefix(name, resumePrefix) }

// triggerOf reads the trigger of the ended execution from its input the
// way Intake does; "" when it cannot tell.
func (h *Cleanup) triggerOf(input *string) string {
	return h.requestOf(input).Trigger
}

// requestOf reads the request of the ended execution from its input the
// way Intake does; the zero Request when it cannot.
func (h *Cleanup) requestOf(input *string) Request {
	if input == nil {
		return Request{}
	}
	st, err := (&Intake{Config: h.Config, Now: h.Now}).Handle(context.Background(), IntakeInput{Event: json.RawMessage(*input)})
	if err != nil {
		return Request{}
	}
	return st.Request
}

func endedReason(d ExecutionStatusDetail) string {
	r := "execution ended " + d.Status + " while holding the failover lock; released by the cleanup"
	if d.Error != nil && *d.Error != "" {
		r += ": " + *d.Error
		if d.Cause != nil && *d.Cause != "" {
			r += ": " + *d.Cause
		}
	}
	return r
}

// resume starts the execution that finishes the handover. Its name is
// derived from the ended execution, so a redelivered event starts nothing
// twice.
func (h *Cleanup) resume(ctx context.Context, d ExecutionStatusDetail, rec store.Record) (string, error) {
	if h.SFN == nil {
		return "", &StepFailed{Step: "cleanup", Err: errors.New("a handover is pending but the cleanup has no Step Functions client to resume it")}
	}
	input, err := json.Marshal(map[string]string{"action": ActionFailover, "cluster": h.Config.Name,
		"reason": clip(fmt.Sprintf("finish the handover to %s interrupted when execution %s ended %s", rec.Primary, d.Name, d.Status))})
	if err != nil {
		return "", fmt.Errorf("cleanup: encoding the resume request: %w", err)
	}
	name := resumeName(d.Name)
	_, err = h.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(d.StateMachineArn),
		Name: aws.String(name), Input: aws.String(string(input))})
	if err != nil && awsapi.ErrorCode(err) != "ExecutionAlreadyExists" {
		return "", classify("cleanup: starting the execution that resumes the handover", err)
	}
	return name, nil
}

// resumeName is the execution name that resumes the handover the ended
// execution left: the same for every delivery of its event.
func resumeName(ended string) string {
	return awsapi.ExecutionName(resumePrefix + ended)
}

func (h *Cleanup) rearm(ctx context.Context, d ExecutionStatusDetail) error {
	alarm := triggerAlarm(h.Config.Detection, h.requestOf(d.Input))
	_, err := h.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName:   aws.String(alarm),
		StateValue:  cwtypes.StateValueOk,
		StateReason: aws.String(clip("Switchyard re-armed the alarm: execution " + d.Name + " ended " + d.Status)),
	})
	if err != nil {
		return classify("cleanup: re-arming alarm "+alarm, err)
	}
	return nil
}
