// Package asl is an interpreter for the Amazon States Language (JSONPath query
// language) as AWS Step Functions runs it.
//
// Switchyard's local stack and its tests run the same statemachine/*.asl.json
// definitions that are deployed to AWS, with the Lambda handlers called
// in-process as Go functions. The interpreter therefore aims at Step
// Functions' observable behaviour rather than at a minimal reading of the
// specification:
//
//   - Parse validates a definition completely at load time, the way
//     CreateStateMachine does: unknown or unsupported fields, transitions to
//     missing states, unreachable states, misplaced States.ALL, bad paths and
//     malformed intrinsic functions are all a *DefinitionError naming the
//     state and the field. Nothing is silently ignored.
//   - Run executes a Machine: Task, Choice, Wait, Pass, Parallel, Map (inline),
//     Succeed and Fail states; InputPath, Parameters, ResultSelector,
//     ResultPath and OutputPath with the context object ("$$"); intrinsic
//     functions; Retry (with MaxDelaySeconds and JitterStrategy) and Catch;
//     TimeoutSeconds on tasks and on the execution.
//   - Task resources are resolved through Options.Tasks to TaskFunc values.
//     A Lambda function ARN calls the function with the state's effective
//     input and uses its output as the result; the optimized integration
//     "arn:aws:states:::lambda:invoke" wraps the output as Step Functions
//     does ({"ExecutedVersion","Payload","StatusCode"}). A handler error is
//     named like the Lambda Go runtime names it (see ErrorType), so Retry and
//     Catch match the same names locally and in AWS.
//   - History events (Event) are reported through Options.OnEvent with Step
//     Functions' event type names, serialised even when Parallel branches or
//     Map iterations run concurrently.
//
// JSON values are handled with json.Number so that large integers (log
// sequence numbers, epochs) pass through unchanged. A Machine is immutable
// and may run any number of executions concurrently.
package asl
