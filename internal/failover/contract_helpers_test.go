package failover

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/cluster"
)

// The repository's sample inputs and state machine, relative to this
// package's directory (go test runs in it).
const (
	eventsDir    = "../../events"
	aslFile      = "../../statemachine/failover.asl.json"
	testExecARN  = "arn:aws:states:us-east-1:123456789012:execution:switchyard-demo-failover:contract-test"
	demoCluster  = "demo"
	demoAlarm    = "switchyard-demo-primary-heartbeat"
	sampleConfig = "cluster-config.json"
	// referenceTopology is the network the sample config is written for.
	referenceTopology = "../../testdata/topology/reference.yaml"
)

// readEvent returns the bytes of events/<name>.
func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatalf("reading sample input: %v", err)
	}
	return data
}

// eventObject decodes events/<name> into a generic object, for tests that
// derive a malformed input from a valid sample.
func eventObject(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readEvent(t, name), &m); err != nil {
		t.Fatalf("events/%s is not a JSON object: %v", name, err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %T: %v", v, err)
	}
	return b
}

// sampleClusterConfig loads events/cluster-config.json the way a Lambda
// loads SWITCHYARD_CONFIG: strictly, with defaults and validation.
func sampleClusterConfig(t *testing.T) *cluster.Config {
	t.Helper()
	cfg, err := cluster.Load(filepath.Join(eventsDir, sampleConfig))
	if err != nil {
		t.Fatalf("events/%s: %v", sampleConfig, err)
	}
	return cfg
}

// intakePayload wraps an execution input the way the ASL's Intake state
// does: {"event.$": "$", "execution.$": "$$.Execution.Id"}. A nil event
// leaves the "event" field out.
func intakePayload(t *testing.T, event []byte) []byte {
	t.Helper()
	p := map[string]any{"execution": testExecARN}
	if event != nil {
		p["event"] = json.RawMessage(event)
	}
	return mustJSON(t, p)
}

// invoke calls a handler through aws-lambda-go's JSON contract, as the Lambda
// runtime does: payload bytes in, response bytes or the handler's error out.
func invoke(handler any, payload []byte) ([]byte, error) {
	return lambda.NewHandler(handler).Invoke(context.Background(), payload)
}

// wantHandlerError checks that err is a *E, that Lambda (and so the state
// machine) would name it wantType, and that its message names the problem.
func wantHandlerError[E error](t *testing.T, err error, wantType string, mentions ...string) E {
	t.Helper()
	var target E
	if err == nil {
		t.Fatalf("got no error, want %s", wantType)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got %T (%v), want %s", err, err, wantType)
	}
	if got := asl.ErrorType(err); got != wantType {
		t.Errorf("the state machine sees errorType %q, want %q (error %T: %v)", got, wantType, err, err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err.Error(), m)
		}
	}
	return target
}
