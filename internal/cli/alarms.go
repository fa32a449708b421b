package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/switchyard/switchyard/internal/awsapi"
	"github.com/switchyard/switchyard/internal/cluster"
)

// alarmStatus is one detection alarm as CloudWatch reports it.
type alarmStatus struct {
	Name   string    `json:"name"`
	State  string    `json:"state"` // OK, ALARM, INSUFFICIENT_DATA, or "not found"
	Since  time.Time `json:"since,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// readAlarms reads the cluster's two detection alarms, by the names the
// template gives them. A failed read is reported, not fatal: the record
// is status's source of truth.
func readAlarms(ctx context.Context, cw awsapi.CloudWatchAPI, clusterName string) ([]alarmStatus, string) {
	names := []string{cluster.DefaultHeartbeatAlarm(clusterName), cluster.DefaultReachabilityAlarm(clusterName)}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		return nil, fmt.Sprintf("reading alarms %v: %v", names, err)
	}
	found := map[string]alarmStatus{}
	for _, a := range out.MetricAlarms {
		found[aws.ToString(a.AlarmName)] = alarmStatus{Name: aws.ToString(a.AlarmName), State: string(a.StateValue),
			Since: aws.ToTime(a.StateUpdatedTimestamp), Reason: aws.ToString(a.StateReason)}
	}
	res := make([]alarmStatus, 0, len(names))
	for _, n := range names {
		st, ok := found[n]
		if !ok {
			st = alarmStatus{Name: n, State: "not found"}
		}
		res = append(res, st)
	}
	return res, ""
}

func printAlarms(w io.Writer, out statusOutput, now time.Time) {
	if out.AlarmsError != "" {
		fmt.Fprintf(w, "alarms\tunavailable: %s\n", oneLine(out.AlarmsError))
		return
	}
	for i, a := range out.Alarms {
		label := ""
		if i == 0 {
			label = "alarms"
		}
		since := ""
		if !a.Since.IsZero() {
			since = fmt.Sprintf(" since %s (%s)", formatTime(a.Since), relative(a.Since, now))
		}
		fmt.Fprintf(w, "%s\t%s %s%s\n", label, a.Name, a.State, since)
	}
}
