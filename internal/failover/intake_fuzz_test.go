package failover

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/cluster"
)

// FuzzIntake feeds Intake arbitrary execution input. It must never panic,
// and must either reject the input with an *InputError and no Request, or
// return a Request that keeps the rules Intake documents and that reads the
// same when written out again: as JSON for the next step, and as the
// trigger input it stands for.
func FuzzIntake(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples in %s: %v", eventsDir, err)
	}
	for _, path := range files { // the cluster config too: a JSON object that is no trigger
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"failover"`, `{}`, `{"action":"failover"}`,
		`{"action":"failover","cluster":"demo","force":false,"force":true,"reason":"r"}`,
		`{"action":"failover","cluster":"demo","\u0066orce":true,"reason":"r"}`,
		`{"action":"failover","cluster":"demo","FORCE":true,"reason":"r"}`,
		`{"ſource":"aws.cloudwatch","action":"failover"}`,
		`{"action":"failover","cluster":"demo","target":"node2","force":true,"reason":" \t "}`,
		`{"action":"failover","cluster":"demo","reason":"` + strings.Repeat("é", maxReasonLength) + `"}`,
		`{"action":"failover","cluster":"demo","reason":"\ud800\u0000"} trailing`,
		`{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","time":"9999-12-31T23:59:59-01:00","detail":{}}`,
		`{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"switchyard-demo-primary-heartbeat","state":{"value":"ALARM","reason":"r"}},"x":1e999}`,
		`{"source":"switchyard.nodeprobe","detail-type":"Primary Lost","time":"2026-03-14T09:24:07+02:00","detail":{"cluster":"demo","observer":"node1","observedAt":"2026-03-14T09:24:05.318999999Z"}}`,
		`{"source":"switchyard.nodeprobe","detail-type":"Primary Lost","detail":{"cluster":"demo","observer":"node2","observer":"node1"}}`,
		strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200),
		strings.Repeat(`[`, maxJSONDepth+1),
	} {
		f.Add([]byte(s))
	}
	cfg, err := cluster.Load(filepath.Join(eventsDir, sampleConfig))
	if err != nil {
		f.Fatal(err)
	}
	h := &Intake{Config: cfg, Now: func() time.Time { return intakeNow }}

	f.Fuzz(func(t *testing.T, input []byte) {
		req, err := h.parse(input)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("rejected with %T (%v), want *InputError", err, err)
			}
			if req != (Request{}) {
				t.Fatalf("rejected (%v) but returned %+v", err, req)
			}
			return
		}
		checkRequest(t, cfg, req)

		// The next step reads the request back from Intake's JSON output.
		out, err := json.Marshal(State{Execution: testExecARN, Request: req})
		if err != nil {
			t.Fatalf("the request %+v cannot be written out: %v", req, err)
		}
		var back State
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Intake's output %s does not read back: %v", out, err)
		}
		sameRequest(t, "read back from Intake's output", back.Request, req)

		// Sent again as the trigger it stands for, it gives the same request.
		again, err := h.parse(triggerInput(t, req))
		if err != nil {
			t.Fatalf("the request %+v, sent again as %s, is rejected: %v", req, triggerInput(t, req), err)
		}
		sameRequest(t, "parsed again from "+string(triggerInput(t, req)), again, req)
	})
}

// checkRequest fails unless req keeps the rules Intake documents.
func checkRequest(t *testing.T, cfg *cluster.Config, req Request) {
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("request %+v: "+format, append([]any{req}, args...)...)
	}
	if req.Action != ActionFailover && req.Action != ActionSwitchover {
		bad("action %q, want %q or %q", req.Action, ActionFailover, ActionSwitchover)
	}
	if req.Action == ActionSwitchover && req.Force {
		bad("a forced switchover was accepted")
	}
	if req.Cluster != cfg.Name {
		bad("cluster %q, want %q", req.Cluster, cfg.Name)
	}
	if _, ok := cfg.Node(req.Target); req.Target != "" && !ok {
		bad("target %q is not a node", req.Target)
	}
	switch req.Trigger {
	case TriggerAlarm:
		if req.Observer != cfg.Detection.AlarmName || !strings.HasPrefix(req.Reason, "alarm: ") || req.Target != "" || req.Force {
			bad("not an alarm's request")
		}
	case TriggerFastPath:
		if _, ok := cfg.Node(req.Observer); !ok || !strings.HasPrefix(req.Reason, "fast path: ") || req.Target != "" || req.Force {
			bad("not a fast path's request")
		}
	case TriggerManual:
		if req.Observer != "operator" || req.Reason != strings.TrimSpace(req.Reason) {
			bad("not a manual request's observer, or a reason with surrounding blanks")
		}
	default:
		bad("trigger %q", req.Trigger)
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > maxReasonLength || !utf8.ValidString(req.Reason) {
		bad("reason empty, longer than %d bytes or not UTF-8", maxReasonLength)
	}
	if req.RequestedAt.IsZero() || req.RequestedAt.Location() != time.UTC {
		bad("requestedAt %v is zero or not in UTC", req.RequestedAt)
	}
}

func sameRequest(t *testing.T, how string, got, want Request) {
	t.Helper()
	if !got.RequestedAt.Equal(want.RequestedAt) {
		t.Fatalf("%s: requestedAt %v, want %v", how, got.RequestedAt, want.RequestedAt)
	}
	got.RequestedAt, want.RequestedAt = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("%s:\n got %+v\nwant %+v", how, got, want)
	}
}

// triggerInput writes req out as the execution input of its trigger.
func triggerInput(t *testing.T, req Request) []byte {
	t.Helper()
	var v any
	switch req.Trigger {
	case TriggerManual:
		m := map[string]any{"action": req.Action, "cluster": req.Cluster, "force": req.Force, "reason": req.Reason}
		if req.Target != "" {
			m["target"] = req.Target
		}
		v = m
	case TriggerAlarm:
		v = map[string]any{"source": SourceCloudWatch, "detail-type": DetailAlarmChange, "time": req.RequestedAt,
			"detail": map[string]any{"alarmName": req.Observer,
				"state": map[string]any{"value": "ALARM", "reason": strings.TrimPrefix(req.Reason, "alarm: ")}}}
	case TriggerFastPath:
		v = map[string]any{"source": SourceNodeProbe, "detail-type": DetailPrimaryLost, "time": req.RequestedAt,
			"detail": map[string]any{"cluster": req.Cluster, "observer": req.Observer, "observedAt": req.RequestedAt,
				"reason": strings.TrimPrefix(req.Reason, "fast path: ")}}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("writing out %+v: %v", req, err)
	}
	return b
}
