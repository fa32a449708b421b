package samtemplate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/localaws/eventbus"
)

// checkAlarmRule checks that some EventBridge rule of the state machine
// starts a failover when the alarm goes to ALARM and that no rule does when
// it returns to OK. Patterns are matched with the local stack's EventBridge
// matcher, against events shaped like CloudWatch's.
func (a *App) checkAlarmRule(alarm *Alarm) []error {
	if a.StateMachine == nil {
		return nil
	}
	if len(a.StateMachine.EventRules) == 0 {
		return []error{fmt.Errorf("state machine %s has no EventBridgeRule event, so alarm %s starts nothing",
			a.StateMachine.LogicalID, alarm.AlarmName)}
	}
	toAlarm := alarmStateChangeEvent(a, alarm, "ALARM", "OK")
	toOK := alarmStateChangeEvent(a, alarm, "OK", "ALARM")
	var errs []error
	started := false
	for _, r := range a.StateMachine.EventRules {
		if r.Schedule != "" {
			continue
		}
		matchAlarm, err := eventbus.MatchPattern(r.Pattern, toAlarm)
		if err != nil {
			errs = append(errs, fmt.Errorf("EventBridge rule %s: %w", r.EventID, err))
			continue
		}
		started = started || matchAlarm
		matchOK, err := eventbus.MatchPattern(r.Pattern, toOK)
		if err != nil {
			errs = append(errs, fmt.Errorf("EventBridge rule %s: %w", r.EventID, err))
			continue
		}
		if matchOK {
			errs = append(errs, fmt.Errorf("EventBridge rule %s matches alarm %s returning to OK: a recovery would start a failover",
				r.EventID, alarm.AlarmName))
		}
	}
	if !started && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no EventBridge rule of state machine %s matches alarm %s going to ALARM (patterns: %s)",
			a.StateMachine.LogicalID, alarm.AlarmName, rulePatterns(a.StateMachine.EventRules)))
	}
	return errs
}

func rulePatterns(rules []EventRule) string {
	s := ""
	for i, r := range rules {
		if i > 0 {
			s += "; "
		}
		s += r.EventID + "=" + string(r.Pattern)
	}
	return s
}

// alarmStateChangeEvent builds the "CloudWatch Alarm State Change" event
// EventBridge receives when the alarm moves from previous to state.
func alarmStateChangeEvent(a *App, alarm *Alarm, state, previous string) []byte {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	ev := map[string]any{
		"version":     "0",
		"id":          "00000000-0000-0000-0000-000000000000",
		"detail-type": "CloudWatch Alarm State Change",
		"source":      "aws.cloudwatch",
		"account":     a.AccountID,
		"time":        now,
		"region":      a.Region,
		"resources":   []string{alarm.AlarmArn},
		"detail": map[string]any{
			"alarmName":     alarm.AlarmName,
			"state":         map[string]any{"value": state, "reason": "samtemplate check", "timestamp": now},
			"previousState": map[string]any{"value": previous, "reason": "samtemplate check", "timestamp": now},
			"configuration": map[string]any{"description": alarm.AlarmDescription},
		},
	}
	data, err := json.Marshal(ev)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return data
}
