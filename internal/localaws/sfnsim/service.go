package sfnsim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/switchyard/switchyard/internal/asl"
	"github.com/switchyard/switchyard/internal/localaws"
)

// protocol is Step Functions' awsJson1_0 dialect: bare error codes in
// __type and no headers of its own.
var protocol = localaws.JSONProtocol{
	TargetPrefix:      "AWSStepFunctions.",
	ContentType:       "application/x-amz-json-1.0",
	InternalErrorCode: "InternalFailure",
}

// Options configure a Service. Zero values mean us-east-1, account
// 123456789012, no task resources, real sleeping and the wall clock.
type Options struct {
	Region    string
	AccountID string
	// Tasks resolves a Task state's Resource to the Go function that runs
	// it. An unresolved resource fails the task as asl documents.
	Tasks func(resource string) (asl.TaskFunc, bool)
	// Sleep waits for Wait states and Retry back-off; nil sleeps for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// TimeoutSleep waits out the TimeoutSeconds of tasks and executions;
	// nil waits for real. Kept apart from Sleep so that compressing waits
	// does not fire every timeout at once.
	TimeoutSleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for timestamps; nil is time.Now.
	Now func() time.Time
	// Publisher receives an execution status change event (source
	// aws.states) whenever an execution starts (RUNNING) and when it ends
	// (SUCCEEDED, FAILED, TIMED_OUT or ABORTED), as Step Functions sends
	// them to EventBridge; nil drops them (StatusChangeEvents still keeps
	// them).
	Publisher EventPublisher
}

// Service is the emulated Step Functions. It implements localaws.Service and
// is safe for concurrent use. Executions run in their own goroutines until
// they end, are stopped, or the Service is closed.
type Service struct {
	opts Options

	baseCtx context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup

	// pubMu serialises status changes with the publication of their
	// events, so events leave in the order the statuses changed. It is
	// taken before mu.
	pubMu sync.Mutex

	mu           sync.Mutex
	machines     map[string]*stateMachine // by ARN
	executions   map[string]*execution    // by ARN
	events       [][]byte                 // status change events, oldest first
	pubErrs      []error
	tasksChanged chan struct{} // closed and replaced when a task invocation ends
}

// New returns a Step Functions with no state machines.
func New(opts Options) *Service {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{opts: opts, baseCtx: ctx, cancel: cancel,
		machines: map[string]*stateMachine{}, executions: map[string]*execution{}, tasksChanged: make(chan struct{})}
}

// Close aborts every running execution and waits for their goroutines. Task
// invocations still running for stopped executions are cancelled but not
// waited for (see WaitStoppedTasks).
func (s *Service) Close() {
	s.cancel()
	s.running.Wait()
}

// SigningName implements localaws.Service.
func (s *Service) SigningName() string { return "states" }

// Operation implements localaws.Service: it reads the X-Amz-Target header.
func (s *Service) Operation(r *http.Request, _ []byte) (string, error) {
	return protocol.Operation(r, func(op string) bool { return handlers[op] != nil })
}

// ThrottleBucket implements localaws.Service.
func (s *Service) ThrottleBucket(string) string { return localaws.BucketStepFunctions }

// ThrottleError implements localaws.Service.
func (s *Service) ThrottleError() *localaws.APIError {
	return localaws.BadRequest("ThrottlingException", "Rate exceeded")
}

type handler func(s *Service, call *localaws.Call) (any, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"CreateStateMachine":   (*Service).createStateMachineCall,
		"DescribeStateMachine": (*Service).describeStateMachine,
		"UpdateStateMachine":   (*Service).updateStateMachine,
		"ListStateMachines":    (*Service).listStateMachines,
		"StartExecution":       (*Service).startExecution,
		"DescribeExecution":    (*Service).describeExecution,
		"ListExecutions":       (*Service).listExecutions,
		"GetExecutionHistory":  (*Service).getExecutionHistory,
		"StopExecution":        (*Service).stopExecution,
	}
}

// Serve implements localaws.Service.
func (s *Service) Serve(w http.ResponseWriter, call *localaws.Call) {
	out, err := handlers[call.Operation](s, call)
	protocol.Respond(w, call, out, err)
}

// WriteError implements localaws.Service: the awsJson1_0 error document.
func (s *Service) WriteError(w http.ResponseWriter, call *localaws.Call, e *localaws.APIError) {
	protocol.WriteError(w, call, e)
}

// decode reads a request body; malformed JSON is a SerializationException.
func decode(call *localaws.Call, v any) error { return protocol.Decode(call, v) }

// epoch renders a timestamp as awsJson1_0 does: seconds since the epoch.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *Service) machineArn(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Service) executionArn(machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", s.opts.Region, s.opts.AccountID, machine, name)
}

// checkArn refuses an ARN that is not a Step Functions ARN of the kind
// wanted ("stateMachine" or "execution"), as InvalidArn.
func checkArn(arn, kind string) error {
	parts := strings.Split(arn, ":")
	want := 7
	if kind == "execution" {
		want = 8
	}
	if len(parts) < 6 || parts[0] != "arn" || parts[2] != "states" {
		return localaws.BadRequest("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", arn)
	}
	if parts[5] != kind || len(parts) != want {
		return localaws.BadRequest("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: %s'", parts[5])
	}
	return nil
}

// checkName applies Step Functions' naming rules to state machine and
// execution names: 1 to 80 characters, no white space, brackets,
// wildcards, special characters or control characters.
func checkName(name string) error {
	bad := len(name) == 0 || len([]rune(name)) > 80
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			bad = true
		}
	}
	if bad {
		return localaws.BadRequest("InvalidName", "Invalid Name: '%s'", name)
	}
	return nil
}
