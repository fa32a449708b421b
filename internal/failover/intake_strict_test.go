package failover

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// sampleOutcomes is what Intake does with each execution input in events/:
// "" accepts it, anything else is what the rejection must mention. A new
// sample must be added here.
var sampleOutcomes = map[string]string{
	"alarm-state-change.json":     "",
	"alarm-ok.json":               "not ALARM",
	"fast-path.json":              "",
	"manual-failover.json":        "",
	"manual-failover-forced.json": "",
	"switchover.json":             "",
}

// Every sample passes the strict reading; the two that are rejected are
// rejected for what they ask, never for how they are written.
func TestIntakeReadsEverySample(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", eventsDir, err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if name == sampleConfig { // the cluster config, not an execution input
			continue
		}
		t.Run(name, func(t *testing.T) {
			want, ok := sampleOutcomes[name]
			if !ok {
				t.Fatalf("events/%s is not in sampleOutcomes: say whether Intake accepts it", name)
			}
			out, err := invoke(newTestIntake(t).Handle, intakePayload(t, readEvent(t, name)))
			if want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			wantHandlerError[*InputError](t, err, "InputError", want)
			if out != nil {
				t.Errorf("a rejected input still produced output %s", out)
			}
		})
	}
}

// rawPayload wraps event as the ASL does, byte for byte (intakePayload
// re-encodes it, which would drop duplicate keys' meaning and whitespace).
func rawPayload(event string) []byte {
	return []byte(`{"event":` + event + `,"execution":"` + testExecARN + `"}`)
}

const (
	alarmHead = `{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","time":"2026-03-14T09:26:53Z",`
	alarmOK   = `"detail":{"alarmName":"` + demoAlarm + `","state":{"value":"ALARM","reason":"r"}}`
	fastHead  = `{"source":"switchyard.nodeprobe","detail-type":"Primary Lost",`
)

// The strict reading refuses each way of writing an input that a loose
// JSON reader would take for something else, naming the key and where.
func TestIntakeRejectsLooseJSON(t *testing.T) {
	cases := []struct {
		name     string
		event    string
		mentions []string
	}{
		{"duplicate force", `{"action":"failover","cluster":"demo","force":false,"force":true,"reason":"r"}`,
			[]string{`key "force" appears twice in $`}},
		{"duplicate force, one escaped", `{"action":"failover","cluster":"demo","\u0066orce":true,"force":false,"reason":"r"}`,
			[]string{`key "force" appears twice in $`}},
		{"duplicate action", `{"action":"switchover","action":"failover","cluster":"demo"}`,
			[]string{`key "action" appears twice in $`}},
		{"duplicate in the alarm state", alarmHead + `"detail":{"alarmName":"` + demoAlarm + `","state":{"value":"OK","value":"ALARM"}}}`,
			[]string{`key "value" appears twice in $.detail.state`}},
		{"duplicate detail", alarmHead + `"detail":{},` + alarmOK + `}`,
			[]string{`key "detail" appears twice in $`}},
		{"duplicate in a part Intake does not read", alarmHead + `"resources":[{"arn":"a","arn":"b"}],` + alarmOK + `}`,
			[]string{`key "arn" appears twice in $.resources[0]`}},
		{"duplicate deep down", alarmHead + `"resources":[1,{"x y":[{"z":{"k":1,"k":2}}]}],` + alarmOK + `}`,
			[]string{`key "k" appears twice in $.resources[1]["x y"][0].z`}},
		{"duplicate in the fast-path detail", fastHead + `"detail":{"cluster":"demo","observer":"node2","observer":"node1"}}`,
			[]string{`key "observer" appears twice in $.detail`}},
		{"FORCE", `{"action":"failover","cluster":"demo","FORCE":true,"reason":"r"}`,
			[]string{`key "FORCE" in $ is not "force"`, "case-sensitive"}},
		{"Action", `{"Action":"failover","cluster":"demo"}`,
			[]string{`key "Action" in $ is not "action"`}},
		{"long s in source", `{"ſource":"aws.cloudwatch"}`, []string{`key "ſource" in $ is not "source"`}},
		{"Detail-Type beside detail-type", `{"Detail-Type":"x",` + alarmHead[1:] + alarmOK + `}`,
			[]string{`key "Detail-Type" in $ is not "detail-type"`}},
		{"State in the alarm detail", alarmHead + `"detail":{"alarmName":"` + demoAlarm + `","State":{"value":"ALARM"}}}`,
			[]string{`key "State" in $.detail is not "state"`}},
		{"Value in the alarm state", alarmHead + `"detail":{"alarmName":"` + demoAlarm + `","state":{"Value":"ALARM"}}}`,
			[]string{`key "Value" in $.detail.state is not "value"`}},
		{"Observer in the fast-path detail", fastHead + `"detail":{"cluster":"demo","Observer":"node2"}}`,
			[]string{`key "Observer" in $.detail is not "observer"`}},
		{"force null", `{"action":"failover","cluster":"demo","force":null}`, []string{"$.force is null"}},
		{"target a number", `{"action":"failover","cluster":"demo","target":2}`, []string{"$.target is a number, not a string"}},
		{"detail null", alarmHead + `"detail":null}`, []string{"$.detail is null, not a JSON object"}},
		{"alarm without state", alarmHead + `"detail":{"alarmName":"` + demoAlarm + `"}}`, []string{`$.detail has no "state"`}},
		{"alarm state without value", alarmHead + `"detail":{"alarmName":"` + demoAlarm + `","state":{"reason":"r"}}}`,
			[]string{`$.detail.state has no "value"`}},
		{"time not RFC 3339", `{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","time":"yesterday",` + alarmOK + `}`,
			[]string{`$.time is "yesterday"`, "RFC 3339"}},
		{"observedAt out of range", fastHead + `"detail":{"cluster":"demo","observer":"node2","observedAt":"0000-01-01T00:30:00+01:00"}}`,
			[]string{"$.detail.observedAt", "out of range"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := invoke(newTestIntake(t).Handle, rawPayload(tc.event))
			wantHandlerError[*InputError](t, err, "InputError", tc.mentions...)
			if out != nil {
				t.Errorf("a rejected input still produced output %s", out)
			}
		})
	}
}

// Input that is not one JSON value cannot arrive through the Lambda
// runtime (the payload would not decode), but Handle is also called on an
// execution's raw input (the cleanup reads the trigger of an ended one), so
// these cases call it directly. Deep input is refused with bounded work,
// and a path in an error shows only its innermost steps.
func TestIntakeRejectsInvalidJSON(t *testing.T) {
	for name, c := range map[string]struct{ event, mention string }{
		"a second value": {`{"action":"failover","cluster":"demo"} {"force":true}`, "more than one JSON value"},
		"truncated":      {`{"action":"failover","cluster":"demo"`, "ends early"},
		"syntax":         {`{"action":"failover",,"cluster":"demo"}`, "invalid JSON at byte 21"},
		"bare key":       {`{action:"failover"}`, "invalid JSON at byte 1"},
		"deep":           {strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), "deeper than 10000 levels"},
		"deep duplicate": {strings.Repeat(`{"a":`, 40) + `{"b":1,"b":2}` + strings.Repeat("}", 40),
			`key "b" appears twice in $…` + strings.Repeat(".a", 32) + ":"},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := newTestIntake(t).Handle(context.Background(), IntakeInput{Event: []byte(c.event), Execution: testExecARN})
			wantHandlerError[*InputError](t, err, "InputError", c.mention)
			if st != (State{}) {
				t.Errorf("a rejected input still produced state %+v", st)
			}
		})
	}
}

// An EventBridge envelope may carry fields Intake does not read (AWS adds
// some over time), and an alarm's detail too; what Intake reads must be
// spelled exactly.
func TestIntakeAcceptsUnknownEventBridgeFields(t *testing.T) {
	m := eventObject(t, "alarm-state-change.json")
	m["replay-name"] = "replay-1"
	m["detail"].(map[string]any)["newField"] = map[string]any{"nested": []any{1, "two"}}
	m["detail"].(map[string]any)["state"].(map[string]any)["actionsSuppressedBy"] = "WaitPeriod"
	event := mustJSON(t, m)
	event = bytes.Replace(event, []byte(`"replay-name"`), []byte(`"huge":1e400,"replay-name"`), 1)
	if _, err := invoke(newTestIntake(t).Handle, intakePayload(t, event)); err != nil {
		t.Fatalf("an alarm event with fields Intake does not read was rejected: %v", err)
	}
}

// The limit is Step Functions' 256 KiB of execution input, counted in
// UTF-8 bytes.
func TestIntakeSizeLimit(t *testing.T) {
	// padded returns a manual request of exactly size bytes whose reason is
	// made of fill.
	padded := func(size int, fill string) string {
		head, tail := `{"action":"failover","cluster":"demo","reason":"`, `"}`
		n := size - len(head) - len(tail)
		reason := strings.Repeat(fill, n/len(fill)) + strings.Repeat("x", n%len(fill))
		return head + reason + tail
	}
	if _, err := invoke(newTestIntake(t).Handle, rawPayload(padded(MaxExecutionInputBytes, "x"))); err != nil {
		t.Fatalf("an input of exactly %d bytes was rejected: %v", MaxExecutionInputBytes, err)
	}
	for name, event := range map[string]string{
		"one byte over":                    padded(MaxExecutionInputBytes+1, "x"),
		"under the limit in characters":    padded(MaxExecutionInputBytes+2, "é"), // 2 bytes each
		"over the limit in whitespace too": `{"action":"failover",` + strings.Repeat(" ", MaxExecutionInputBytes) + `"cluster":"demo"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if n := len([]rune(event)); name == "under the limit in characters" && n > MaxExecutionInputBytes {
				t.Fatalf("test input has %d characters, want at most %d", n, MaxExecutionInputBytes)
			}
			out, err := invoke(newTestIntake(t).Handle, rawPayload(event))
			wantHandlerError[*InputError](t, err, "InputError", "262144 bytes", "256 KiB")
			if out != nil {
				t.Errorf("a rejected input still produced output %s", out)
			}
		})
	}
}

func TestIntakeRejectsInvalidUTF8(t *testing.T) {
	event := "{\"action\":\"failover\",\"cluster\":\"demo\",\"reason\":\"\xff\"}"
	var probe IntakeInput
	if err := json.Unmarshal(rawPayload(event), &probe); err != nil {
		t.Fatalf("the Lambda runtime would not even decode the payload: %v", err)
	}
	_, err := invoke(newTestIntake(t).Handle, rawPayload(event))
	wantHandlerError[*InputError](t, err, "InputError", "not valid UTF-8")
}

// A manual reason is clipped to maxReasonLength bytes and trimmed after
// clipping, so the request reads the same when sent again.
func TestIntakeClipsAndTrimsTheReason(t *testing.T) {
	reason := strings.Repeat("a", maxReasonLength-1) + "  tail"
	req, err := newTestIntake(t).parse(mustJSON(t, map[string]any{"action": "failover", "cluster": "demo", "reason": reason}))
	if err != nil {
		t.Fatal(err)
	}
	if req.Reason != strings.Repeat("a", maxReasonLength-1) {
		t.Errorf("reason is %d bytes ending %q, want the %d a's", len(req.Reason), req.Reason[len(req.Reason)-3:], maxReasonLength-1)
	}
}
