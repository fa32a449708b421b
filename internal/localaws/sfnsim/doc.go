// Package sfnsim emulates AWS Step Functions (Standard workflows) for
// Switchyard's local stack, speaking the real wire protocol (JSON 1.0,
// X-Amz-Target "AWSStepFunctions.<Operation>", timestamps as epoch seconds)
// so the unmodified aws-sdk-go-v2 sfn client works against it.
//
// State machines are parsed and run by the internal/asl interpreter; Task
// resources are resolved to in-process Go functions through Options.Tasks,
// so the same handler code that runs as Lambda functions in AWS runs here.
// Options.Sleep lets tests and the demo compress Wait states and Retry
// back-off.
//
// Supported operations: CreateStateMachine (idempotent on name, definition
// and type), DescribeStateMachine, UpdateStateMachine, ListStateMachines,
// StartExecution (with Step Functions' name idempotency: the same name and
// input while the execution runs returns the same execution),
// DescribeExecution, ListExecutions, GetExecutionHistory and StopExecution.
// Errors carry Step Functions' codes (ExecutionAlreadyExists,
// ExecutionDoesNotExist, StateMachineDoesNotExist, StateMachineAlreadyExists,
// InvalidDefinition, InvalidExecutionInput, InvalidName, InvalidArn,
// InvalidToken, ThrottlingException, and ValidationException for an input
// over 262144 UTF-8 bytes, which creates nothing).
//
// StopExecution marks the execution ABORTED at once; as in AWS, a Lambda
// task it is running is not interrupted but runs to its end, its result
// discarded (WaitStoppedTasks waits for such tasks). Every execution's
// status changes (RUNNING, then SUCCEEDED, FAILED, TIMED_OUT or ABORTED)
// are sent to Options.Publisher as EventBridge "Step Functions Execution
// Status Change" events (source aws.states); *eventbus.Bus fits.
//
// Besides the wire API, Service offers in-process calls for the rest of the
// local stack: Start (the EventBridge target), CreateStateMachine,
// WaitExecution, Execution and Executions; and Substitute applies SAM's
// DefinitionSubstitutions to a definition template.
//
// History events follow Step Functions' types and detail structures; each
// event's previousEventId is the event recorded just before it, a
// simplification of AWS's causal links.
package sfnsim
