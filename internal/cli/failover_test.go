package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard/switchyard/internal/awsapi/awsall"
	"github.com/switchyard/switchyard/internal/cli"
	"github.com/switchyard/switchyard/internal/cluster"
	"github.com/switchyard/switchyard/internal/failover"
	"github.com/switchyard/switchyard/internal/localaws"
)

func TestFailoverDryRunStartsNothing(t *testing.T) {
	em := newEmulator(t)
	arn := em.machine(t, "switchyard-failover", passDefinition)

	res := em.run(t, "failover", "--state-machine-arn", arn, "--cluster", "demo", "--target", "node2",
		"--force", "--reason", "disk failed", "--dry-run", "--wait")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	mustContain(t, "dry-run output", res.stdout, "dry run: nothing is started", `"action": "failover"`,
		`"cluster": "demo"`, `"target": "node2"`, `"force": true`, `"reason": "disk failed"`,
		"would start an execution of "+arn, "then wait for it to end")

	res = em.run(t, "--output", "json", "failover", "--state-machine-arn", arn, "--cluster", "demo", "--dry-run")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	var doc struct {
		DryRun  bool              `json:"dryRun"`
		Request cli.ManualRequest `json:"request"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("dry-run JSON: %v\n%s", err, res.stdout)
	}
	want := cli.ManualRequest{Action: "failover", Cluster: "demo"}
	if !doc.DryRun || doc.Request != want {
		t.Errorf("dry-run JSON = %+v, want dryRun and request %+v", doc, want)
	}

	if calls := em.srv.Calls(); len(calls) != 0 {
		t.Errorf("a dry run made %d AWS call(s), first %s.%s", len(calls), calls[0].Service, calls[0].Operation)
	}
	if ex := em.sfn.Executions(arn); len(ex) != 0 {
		t.Errorf("a dry run started %d execution(s)", len(ex))
	}
}

// The execution input must be exactly what the state machine's Intake step
// accepts: run the real Intake on what the CLI sent.
func TestFailoverInputIsAcceptedByIntake(t *testing.T) {
	cfg, err := cluster.Load("testdata/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		flags []string
		want  failover.Request
	}{
		{"plain", nil, failover.Request{Action: "failover", Cluster: "demo", Reason: "manual failover requested"}},
		{"forced to a target", []string{"--target", "node2", "--force", "--reason", "  node1's volume is gone  "},
			failover.Request{Action: "failover", Cluster: "demo", Target: "node2", Force: true, Reason: "node1's volume is gone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			em := newEmulator(t)
			arn := em.machine(t, "switchyard-failover", passDefinition)
			args := append([]string{"--output", "json", "failover", "--state-machine-arn", arn, "--cluster", "demo"}, tc.flags...)
			res := em.run(t, args...)
			if res.code != cli.ExitOK {
				t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
			}
			var out struct {
				ExecutionARN string `json:"executionArn"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out.ExecutionARN == "" {
				t.Fatalf("output has no executionArn (%v):\n%s", err, res.stdout)
			}
			info, ok := em.sfn.Execution(out.ExecutionARN)
			if !ok {
				t.Fatalf("execution %s does not exist in the emulator", out.ExecutionARN)
			}
			intake := &failover.Intake{Config: cfg}
			state, err := intake.Handle(context.Background(), failover.IntakeInput{Event: info.Input, Execution: out.ExecutionARN})
			if err != nil {
				t.Fatalf("Intake refused the CLI's input %s: %v", info.Input, err)
			}
			got := state.Request
			if got.Action != tc.want.Action || got.Cluster != tc.want.Cluster || got.Target != tc.want.Target ||
				got.Force != tc.want.Force || got.Reason != tc.want.Reason || got.Trigger != failover.TriggerManual {
				t.Errorf("Intake made %+v, want %+v (manual)", got, tc.want)
			}
			calls := em.srv.Calls()
			if len(calls) != 1 || calls[0].Operation != "StartExecution" || calls[0].AccessKeyID != "AKIDCLI" {
				t.Errorf("calls = %v, want one StartExecution by the CLI", callNames(calls))
			}
		})
	}
}

// A held Wait state shows that --wait prints events while the execution
// runs, each once, and ends with the execution.
func TestFailoverWaitPrintsTimelineAsItHappens(t *testing.T) {
	em := newEmulator(t)
	release := make(chan struct{})
	em.setSleep(func(ctx context.Context, _ time.Duration) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	arn := em.machine(t, "switchyard-failover", `{"StartAt":"Accept","States":{
		"Accept":{"Type":"Pass","Next":"Hold"},
		"Hold":{"Type":"Wait","Seconds":5,"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`)

	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		args := []string{"--endpoint-url", em.url, "failover", "--state-machine-arn", arn, "--cluster", "demo",
			"--wait", "--poll-interval", "10ms"}
		done <- cli.Run(context.Background(), args, testOptions(&stdout, &stderr))
	}()
	waitFor(t, "the Wait state on the timeline", func() bool { return strings.Contains(stdout.String(), "WaitStateEntered") })
	if s := stdout.String(); strings.Contains(s, "ExecutionSucceeded") || strings.Contains(s, "execution SUCCEEDED") {
		t.Fatalf("the end was printed while the execution was held:\n%s", s)
	}
	close(release)
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("failover --wait did not return after the execution ended")
	}
	out := stdout.String()
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s\nstdout: %s", code, stderr.String(), out)
	}
	order := []string{"ExecutionStarted", "Accept", "PassStateEntered", "PassStateExited",
		"Hold", "WaitStateEntered", "WaitStateExited", "Done", "SucceedStateEntered", "ExecutionSucceeded", "execution SUCCEEDED"}
	rest := out
	for _, part := range order {
		i := strings.Index(rest, part)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", part, out)
		}
		rest = rest[i+len(part):]
	}
	timelineLines := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  +") {
			timelineLines++
		}
	}
	client := sfnClient(t, em)
	execs, err := client.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn)})
	if err != nil || len(execs.Executions) != 1 {
		t.Fatalf("ListExecutions: %v, %d executions", err, len(execs.Executions))
	}
	hist, err := client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: execs.Executions[0].ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if timelineLines != len(hist.Events) {
		t.Errorf("printed %d timeline lines for %d history events:\n%s", timelineLines, len(hist.Events), out)
	}
}

// The default execution name makes a repeated request (a retry, a double
// submit within the second) return the running execution instead of
// starting a second failover.
func TestFailoverRepeatedRequestStartsOneExecution(t *testing.T) {
	em := newEmulator(t)
	em.now = func() time.Time { return time.Date(2025, 3, 1, 12, 30, 45, 0, time.UTC) }
	arn := em.machine(t, "switchyard-failover", holdDefinition)
	var arns []string
	for range 2 {
		res := em.run(t, "--output", "json", "failover", "--state-machine-arn", arn, "--cluster", "demo", "--reason", "maintenance")
		if res.code != cli.ExitOK {
			t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
		}
		var out struct {
			Name         string `json:"name"`
			ExecutionARN string `json:"executionArn"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatal(err)
		}
		if out.Name != "failover-demo-20250301T123045Z" || !strings.HasSuffix(out.ExecutionARN, ":"+out.Name) {
			t.Errorf("name %q, execution %s; want failover-demo-20250301T123045Z", out.Name, out.ExecutionARN)
		}
		arns = append(arns, out.ExecutionARN)
	}
	if arns[0] != arns[1] {
		t.Errorf("the repeated request started %s and %s", arns[0], arns[1])
	}
	if ex := em.sfn.Executions(arn); len(ex) != 1 {
		t.Errorf("%d executions, want 1", len(ex))
	}
}

func TestFailoverWaitReportsFailedExecution(t *testing.T) {
	em := newEmulator(t)
	arn := em.machine(t, "switchyard-failover", failDefinition)
	res := em.run(t, "failover", "--state-machine-arn", arn, "--cluster", "demo", "--wait", "--poll-interval", "10ms")
	if res.code != cli.ExitExecutionFailed {
		t.Fatalf("exit %d, want %d; stderr: %s", res.code, cli.ExitExecutionFailed, res.stderr)
	}
	mustContain(t, "stdout", res.stdout, "Refuse", "FailStateEntered", "ExecutionFailed",
		"execution FAILED", "error: Switchyard.Refused", "cause: standby too far behind")
	mustContain(t, "stderr", res.stderr, "ended FAILED", "Switchyard.Refused", "standby too far behind")
}

func TestFailoverWaitJSON(t *testing.T) {
	em := newEmulator(t)
	arn := em.machine(t, "switchyard-failover", passDefinition)
	res := em.run(t, "--output", "json", "failover", "--state-machine-arn", arn, "--cluster", "demo", "--wait", "--poll-interval", "10ms")
	if res.code != cli.ExitOK {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	var doc struct {
		ExecutionARN string `json:"executionArn"`
		Execution    struct {
			Status   string `json:"status"`
			Output   string `json:"output"`
			Timeline []struct {
				Type  string `json:"type"`
				State string `json:"state"`
			} `json:"timeline"`
		} `json:"execution"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(res.stdout)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, res.stdout)
	}
	if dec.More() {
		t.Errorf("output has more than one JSON document:\n%s", res.stdout)
	}
	tl := doc.Execution.Timeline
	if doc.Execution.Status != "SUCCEEDED" || len(tl) < 4 || tl[0].Type != "ExecutionStarted" || tl[len(tl)-1].Type != "ExecutionSucceeded" {
		t.Fatalf("execution = %+v", doc.Execution)
	}
	if tl[1].Type != "PassStateEntered" || tl[1].State != "Accept" {
		t.Errorf("timeline[1] = %+v, want PassStateEntered of Accept", tl[1])
	}
	if doc.Execution.Output != `{"ok":true}` {
		t.Errorf("output = %q", doc.Execution.Output)
	}
}

func TestFailoverRejectsBadInputAndChangesNothing(t *testing.T) {
	em := newEmulator(t)
	arn := em.machine(t, "switchyard-failover", passDefinition)
	base := []string{"failover", "--state-machine-arn", arn, "--cluster", "demo"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"force without reason", append(base, "--force"), "--force needs --reason"},
		{"force with a blank reason", append(base, "--force", "--reason", "  "), "--force needs --reason"},
		{"no cluster", []string{"failover", "--state-machine-arn", arn}, "--cluster is required"},
		{"blank cluster", []string{"failover", "--state-machine-arn", arn, "--cluster", " "}, "--cluster is required"},
		{"no state machine", []string{"failover", "--cluster", "demo"}, "--state-machine-arn is required"},
		{"not an ARN", []string{"failover", "--state-machine-arn", "switchyard", "--cluster", "demo"}, "is not an ARN"},
		{"a Lambda ARN", []string{"failover", "--state-machine-arn", "arn:aws:lambda:us-east-1:123456789012:function:intake", "--cluster", "demo"}, "is not a state machine ARN"},
		{"region differs from the ARN", append([]string{"--region", "eu-west-1"}, base...), "differs from the region"},
		{"execution name with a space", append(base, "--name", "my failover"), "does not allow"},
		{"reason too long", append(base, "--reason", strings.Repeat("x", cli.MaxReasonLength+1)), "at most 1024"},
		{"wait with no poll interval", append(base, "--wait", "--poll-interval", "0s"), "--poll-interval must be positive"},
		{"misspelt flag", append(base, "--forse"), "unknown flag: --forse"},
		{"stray argument", append(base, "node2"), "takes no arguments"},
		{"bad output format", append([]string{"--output", "yaml"}, base...), `--output "yaml"`},
		{"bad endpoint", append([]string{"--endpoint-url", "ftp://example"}, base...), "--endpoint-url"},
		{"unknown command", []string{"failovr"}, `unknown command "failovr"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := em.run(t, tc.args...)
			if res.code != cli.ExitUsage {
				t.Fatalf("exit %d, want %d; stdout: %s stderr: %s", res.code, cli.ExitUsage, res.stdout, res.stderr)
			}
			mustContain(t, "stderr", res.stderr, tc.want)
			if calls := em.srv.Calls(); len(calls) != 0 {
				t.Errorf("bad input made AWS calls: %v", callNames(calls))
			}
		})
	}
	if ex := em.sfn.Executions(arn); len(ex) != 0 {
		t.Errorf("bad input started %d execution(s)", len(ex))
	}
}

func TestFailoverUnknownStateMachineFails(t *testing.T) {
	em := newEmulator(t)
	res := em.run(t, "failover", "--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:nope", "--cluster", "demo")
	if res.code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d; stderr: %s", res.code, cli.ExitFailure, res.stderr)
	}
	mustContain(t, "stderr", res.stderr, "starting an execution of arn:aws:states:us-east-1:123456789012:stateMachine:nope", "StateMachineDoesNotExist")
}

func sfnClient(t *testing.T, em *emulator) *sfn.Client {
	t.Helper()
	clients, err := awsall.NewClients(context.Background(), awsall.LocalConfig(em.url, testRegion, "AKIDTEST")...)
	if err != nil {
		t.Fatal(err)
	}
	return clients.SFN
}

func callNames(calls []localaws.Call) []string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Service + "." + c.Operation + " by " + c.AccessKeyID
	}
	return names
}
