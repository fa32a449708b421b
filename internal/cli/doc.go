// Package cli implements the switchyard command line: the commands an
// operator uses to start and follow a failover, read the cluster record and
// its history, check the deployable artefacts offline, and run the local AWS
// emulator as a process.
//
// cmd/switchyard/main.go only wires the process to Run; every command lives
// here, one file per command, so that tests run the commands in process with
// the same code paths as the binary, against the emulator over HTTP.
//
// # Commands
//
//	failover    start the failover state machine with a manual request
//	            (optionally waiting and printing the execution's timeline)
//	status      the cluster record: primary, epoch, lease, running executions
//	history     the record's failover history, newest first
//	validate    a cluster's prerequisites, checked against the account
//	discover    find the pair's instances, interfaces and route tables by tag
//	local aws   the AWS emulator as a long-running process
//
// Global flags: --region, --endpoint-url (the base endpoint of every AWS
// client; AWS_ENDPOINT_URL works as well) and --output text|json.
//
// # Adding a command
//
// Write a constructor func(*app) *cobra.Command in its own file and add it
// to the commands list in commands.go: that one line is the whole
// registration. The *app gives the command its streams (a.stdout, a.stderr),
// the global flags (a.jsonOutput(), a.region, a.endpointURL), the clock
// (a.now) and AWS clients built from the global flags (a.clients).
// Return usageErrorf for bad input found before anything was changed, so
// the process exits with ExitUsage.
//
// # Exit codes
//
// ExitOK (0) on success, ExitFailure (1) when a command failed (an AWS call
// failed, validate found problems), ExitUsage (2) for bad flags or arguments,
// with nothing changed, and ExitExecutionFailed (3) when failover --wait saw
// the execution end in any status but SUCCEEDED.
package cli
